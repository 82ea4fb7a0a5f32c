#include "core/key.hpp"

#include <cstdint>

#include "util/digest.hpp"
#include "util/utf8.hpp"

namespace lockrun {

namespace {
constexpr std::size_t k_max_key_bytes = 512;
}  // namespace

std::optional<std::string> key_problem(std::string_view key) {
    if (key.empty()) return "is empty";
    if (key.size() > k_max_key_bytes) return "is longer than 512 bytes";
    // Positions count from 1, as a person counts the bytes of what they typed.
    for (std::size_t pos = 0; pos < key.size();) {
        const std::size_t length = utf8_sequence_length(key.substr(pos));
        if (length == 0) return "is not valid UTF-8 at byte " + std::to_string(pos + 1);
        if (is_control_character(key.substr(pos, length))) {
            return "contains a control character at byte " + std::to_string(pos + 1);
        }
        if (is_bidi_control(key.substr(pos, length))) {
            return "contains a bidirectional formatting character at byte " +
                   std::to_string(pos + 1) + ", which makes it show as another key";
        }
        pos += length;
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
