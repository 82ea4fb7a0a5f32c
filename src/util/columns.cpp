#include "util/columns.hpp"

namespace lockrun {
namespace {

bool starts_character(char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
}

// The byte offset where the character after the first `count` characters begins.
std::size_t offset_after(std::string_view text, std::size_t count) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!starts_character(text[i])) continue;
        if (seen == count) return i;
        ++seen;
    }
    return text.size();
}

}  // namespace

std::string fit_to_columns(std::string_view line, std::size_t columns) {
    std::size_t usable = columns > 1 ? columns - 1 : 0;
    if (offset_after(line, usable) == line.size()) return std::string(line);
    constexpr std::string_view k_ellipsis = "...";
    if (usable <= k_ellipsis.size()) return std::string(line.substr(0, offset_after(line, usable)));
    return std::string(line.substr(0, offset_after(line, usable - k_ellipsis.size()))) +
           std::string(k_ellipsis);
}

}  // namespace lockrun
