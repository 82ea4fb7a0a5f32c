#include "util/one_line.hpp"

#include "util/hex.hpp"
#include "util/utf8.hpp"

namespace lockrun {
namespace {

// Four hex digits: every code point escaped here (C1 controls, bidi formatting) is below
// U+10000.
std::string four_hex_digits(char32_t code_point) {
    const char bytes[] = {static_cast<char>(code_point >> 8), static_cast<char>(code_point)};
    return hex(std::string_view(bytes, sizeof bytes));
}

}  // namespace

std::string one_line(std::string_view text) {
    std::string line;
    line.reserve(text.size());
    while (!text.empty()) {
        std::size_t length = utf8_sequence_length(text);
        std::string_view character = text.substr(0, length == 0 ? 1 : length);
        if (character == "\n") {
            line += "\\n";
        } else if (length == 0 || (length == 1 && is_control_character(character))) {
            line += "\\x" + hex(character);  // not UTF-8, or a C0 control or DEL
        } else if (is_control_character(character) || is_bidi_control(character)) {
            line += "\\u" + four_hex_digits(code_point(character));  // C1, or U+202E...
        } else {
            line += character;
        }
        text.remove_prefix(character.size());
    }
    return line;
}

}  // namespace lockrun
