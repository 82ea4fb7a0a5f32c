#include "util/utf8.hpp"

namespace lockrun {

std::size_t utf8_sequence_length(std::string_view bytes) {
    if (bytes.empty()) return 0;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    auto continuation = [&](std::size_t i) { return i < bytes.size() && (byte(i) & 0xc0) == 0x80; };
    unsigned char lead = byte(0);
    if (lead < 0x80) return 1;
    if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
    if (lead >= 0xe0 && lead <= 0xef) {
        if (!continuation(1) || !continuation(2)) return 0;
        if (lead == 0xe0 && byte(1) < 0xa0) return 0;  // overlong
        if (lead == 0xed && byte(1) > 0x9f) return 0;  // surrogate
        return 3;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
        if (lead == 0xf0 && byte(1) < 0x90) return 0;  // overlong
        if (lead == 0xf4 && byte(1) > 0x8f) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

bool is_control_character(std::string_view character) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(character[i]); };
    if (character.size() == 1) return byte(0) < 0x20 || byte(0) == 0x7f;
    return character.size() == 2 && byte(0) == 0xc2 && byte(1) < 0xa0;
}

bool is_valid_utf8(std::string_view bytes) {
    while (!bytes.empty()) {
        std::size_t length = utf8_sequence_length(bytes);
        if (length == 0) return false;
        bytes.remove_prefix(length);
    }
    return true;
}

}  // namespace lockrun
