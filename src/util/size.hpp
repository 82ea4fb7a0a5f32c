#pragma once
// Byte sizes as users write them (SPEC §2): "512", "64KiB", "16MiB", "1GiB"; also the
// decimal units "kB", "MB", "GB" (powers of 1000) since people type them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockrun {

// Returns nullopt for anything that is not a non-negative whole number of bytes that fits
// in 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

// "512B", "64KiB", "16MiB": exact when the value is a whole multiple, else bytes.
std::string format_size(std::uint64_t bytes);

}  // namespace lockrun
