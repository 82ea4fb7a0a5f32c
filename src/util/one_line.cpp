#include "util/one_line.hpp"

#include <cstdio>

namespace lockrun {
namespace {

void escape_byte(std::string& line, unsigned char byte) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
    line += escaped;
}

// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    auto continuation = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xc0) == 0x80; };
    unsigned char first = byte(0);
    if (first >= 0xc2 && first <= 0xdf) return continuation(1) ? 2 : 0;
    if (first >= 0xe0 && first <= 0xef) {
        if (!continuation(1) || !continuation(2)) return 0;
        if (first == 0xe0 && byte(1) < 0xa0) return 0;  // overlong
        if (first == 0xed && byte(1) > 0x9f) return 0;  // surrogate
        return 3;
    }
    if (first >= 0xf0 && first <= 0xf4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
        if (first == 0xf0 && byte(1) < 0x90) return 0;  // overlong
        if (first == 0xf4 && byte(1) > 0x8f) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

std::string one_line(std::string_view text) {
    std::string line;
    line.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\n') {
            line += "\\n";
            ++i;
        } else if (byte < 0x20 || byte == 0x7f) {
            escape_byte(line, byte);
            ++i;
        } else if (byte < 0x80) {
            line += text[i];
            ++i;
        } else if (std::size_t length = utf8_sequence_length(text.substr(i)); length == 0) {
            escape_byte(line, byte);
            ++i;
        } else if (length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
            char escaped[8];  // a C1 control, U+0080-U+009F
            std::snprintf(escaped, sizeof escaped, "\\u%04x",
                          static_cast<unsigned>(static_cast<unsigned char>(text[i + 1])));
            line += escaped;
            i += 2;
        } else {
            line.append(text.substr(i, length));
            i += length;
        }
    }
    return line;
}

}  // namespace lockrun
