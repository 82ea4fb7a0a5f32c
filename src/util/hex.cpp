#include "util/hex.hpp"

namespace lockrun {
namespace {

std::string hex_with(std::string_view bytes, const char (&digits)[17]) {
    std::string out;
    out.reserve(2 * bytes.size());
    for (char c : bytes) {
        auto byte = static_cast<unsigned char>(c);
        out += digits[byte >> 4];
        out += digits[byte & 0x0f];
    }
    return out;
}

}  // namespace

std::string hex(std::string_view bytes) {
    return hex_with(bytes, "0123456789abcdef");
}

std::string hex_upper(std::string_view bytes) {
    return hex_with(bytes, "0123456789ABCDEF");
}

}  // namespace lockrun
