#include "util/one_line.hpp"

#include "util/hex.hpp"
#include "util/utf8.hpp"

namespace lockrun {

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
        } else if (is_control_character(character)) {
            line += "\\u00" + hex(character.substr(1));  // a C1 control, U+0080-U+009F
        } else {
            line += character;
        }
        text.remove_prefix(character.size());
    }
    return line;
}

}  // namespace lockrun
