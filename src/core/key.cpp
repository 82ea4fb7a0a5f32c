#include "core/key.hpp"

#include <cstdint>

#include "util/sha256.hpp"

namespace lockrun {

namespace {

constexpr std::size_t k_max_key_bytes = 512;

struct Decoded {
    std::size_t length = 0;  // 0: not a valid UTF-8 sequence
    char32_t code_point = 0;
};

bool is_continuation(unsigned char byte) {
    return (byte & 0xC0) == 0x80;
}

// One code point under the strict rules of RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF. The lead byte fixes the length and the range of the second byte,
// which is where overlong forms, surrogates and too-large values are told apart.
Decoded decode_utf8(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return {1, lead};

    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    char32_t code_point = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code_point = lead & 0x0F;
        if (lead == 0xE0) second_min = 0xA0;  // below: overlong
        if (lead == 0xED) second_max = 0x9F;  // above: UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code_point = lead & 0x07;
        if (lead == 0xF0) second_min = 0x90;  // below: overlong
        if (lead == 0xF4) second_max = 0x8F;  // above: beyond U+10FFFF
    } else {
        return {};  // a stray continuation byte, an overlong C0/C1 lead, or F5..FF
    }
    if (text.size() < length) return {};
    if (byte(1) < second_min || byte(1) > second_max) return {};
    for (std::size_t i = 1; i < length; ++i) {
        if (!is_continuation(byte(i))) return {};
        code_point = (code_point << 6) | (byte(i) & 0x3F);
    }
    return {length, code_point};
}

bool is_control(char32_t code_point) {
    return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

}  // namespace

std::optional<std::string> key_problem(std::string_view key) {
    if (key.empty()) return "is empty";
    if (key.size() > k_max_key_bytes) return "is longer than 512 bytes";
    // Positions count from 1, as a person counts the bytes of what they typed.
    for (std::size_t pos = 0; pos < key.size();) {
        const Decoded decoded = decode_utf8(key.substr(pos));
        if (decoded.length == 0) {
            return "is not valid UTF-8 at byte " + std::to_string(pos + 1);
        }
        if (is_control(decoded.code_point)) {
            return "contains a control character at byte " + std::to_string(pos + 1);
        }
        pos += decoded.length;
    }
    return std::nullopt;
}

std::string key_from_command(const std::vector<std::string>& argv) {
    // NUL separates the words because no argument can contain one, so ["a b"] and ["a","b"]
    // cannot hash alike.
    std::string joined;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        if (i != 0) joined += '\0';
        joined += argv[i];
    }
    return "cmd:" + sha256_hex(joined);
}

}  // namespace lockrun
