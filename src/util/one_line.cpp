#include "util/one_line.hpp"

#include "util/hex.hpp"
#include "util/utf8.hpp"

namespace lockrun {
namespace {

std::string four_hex_digits(char32_t code_point) {
    constexpr char k_digits[] = "0123456789abcdef";
    std::string text(4, '0');
    for (int i = 3; i >= 0; --i, code_point >>= 4) text[i] = k_digits[code_point & 0xf];
    return text;
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
