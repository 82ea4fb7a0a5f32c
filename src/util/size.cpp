#include "util/size.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <system_error>

namespace lockrun {

namespace {

struct SizeUnit {
    std::string_view suffix;
    std::uint64_t bytes;
};

// Case matters: "kB" is the SI kilo and "KiB" the binary one; guessing at "KB" or "k" would
// make 1000 and 1024 a matter of luck.
constexpr std::array<SizeUnit, 7> k_size_units{{
    {"B", 1},
    {"KiB", std::uint64_t{1} << 10},
    {"MiB", std::uint64_t{1} << 20},
    {"GiB", std::uint64_t{1} << 30},
    {"kB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
}};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    // std::from_chars takes no sign, no whitespace and no "0x", so all of those fail here.
    std::uint64_t count = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{}) return std::nullopt;
    const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    if (suffix.empty()) return count;
    for (const SizeUnit& unit : k_size_units) {
        if (unit.suffix != suffix) continue;
        if (count > std::numeric_limits<std::uint64_t>::max() / unit.bytes) return std::nullopt;
        return count * unit.bytes;
    }
    return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
    // Binary units only, largest first: the sizes lockrun prints are its own limits, which
    // are powers of two.
    constexpr std::array<SizeUnit, 3> k_binary{{
        {"GiB", std::uint64_t{1} << 30},
        {"MiB", std::uint64_t{1} << 20},
        {"KiB", std::uint64_t{1} << 10},
    }};
    if (bytes != 0) {
        for (const SizeUnit& unit : k_binary) {
            if (bytes % unit.bytes == 0)
                return std::to_string(bytes / unit.bytes) + std::string(unit.suffix);
        }
    }
    return std::to_string(bytes) + "B";
}

}  // namespace lockrun
