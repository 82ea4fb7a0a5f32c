#pragma once
// Fixed-width integers in binary records, least significant byte first whatever the host's
// byte order, so that a record written on one machine reads the same on another.

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace lockrun {

template <typename Int>
void append_little_endian(std::string& out, Int value) {
    auto bits = static_cast<std::make_unsigned_t<Int>>(value);
    for (std::size_t i = 0; i < sizeof(Int); ++i) {
        out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    }
}

// Takes an Int off the front of `bytes`; false, with `bytes` untouched, when it is too short.
template <typename Int>
bool take_little_endian(std::string_view& bytes, Int& value) {
    if (bytes.size() < sizeof(Int)) return false;
    std::make_unsigned_t<Int> bits = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i) {
        bits |= static_cast<std::make_unsigned_t<Int>>(static_cast<unsigned char>(bytes[i]))
                << (8 * i);
    }
    value = static_cast<Int>(bits);
    bytes.remove_prefix(sizeof(Int));
    return true;
}

}  // namespace lockrun
