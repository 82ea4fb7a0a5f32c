#include "util/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <system_error>

namespace lockrun {

namespace {

struct Unit {
    std::string_view suffix;
    std::uint64_t millis;
};

// Largest first: format_duration decomposes in this order, and parse_duration requires
// the parts of a compound ("1m30s") in this order so that what one prints the other reads,
// and a repeated or shuffled unit ("30s1m", "1s1s") is taken for the typo it likely is.
constexpr std::array<Unit, 5> k_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr auto k_max_finite = static_cast<std::uint64_t>(k_longest_duration.count());

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::size_t count_digits(std::string_view text) {
    std::size_t n = 0;
    while (n < text.size() && is_digit(text[n])) ++n;
    return n;
}

// ceil(0.FRACTION * unit_millis) for any number of fraction digits, exactly: the digits are
// multiplied by unit_millis from the right as in long multiplication, so the carry out of the
// leftmost digit is the whole milliseconds and any non-zero digit left behind is a remainder.
std::uint64_t fraction_millis(std::string_view fraction, std::uint64_t unit_millis) {
    std::uint64_t carry = 0;
    bool remainder = false;
    for (auto it = fraction.rbegin(); it != fraction.rend(); ++it) {
        const std::uint64_t product = static_cast<std::uint64_t>(*it - '0') * unit_millis + carry;
        remainder = remainder || product % 10 != 0;
        carry = product / 10;
    }
    return carry + (remainder ? 1 : 0);
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text, bool allow_infinite) {
    if (text == "inf") {
        if (allow_infinite) return k_infinite;
        return std::nullopt;
    }
    if (text.empty()) return std::nullopt;

    std::uint64_t total = 0;
    std::size_t next_unit = 0;  // index into k_units of the largest unit still allowed
    bool first_part = true;
    while (!text.empty()) {
        // NUMBER: digits, optionally "." and more digits. std::from_chars takes neither a
        // sign nor whitespace, so " 5s", "+5s" and "-1s" fail here.
        const std::size_t int_len = count_digits(text);
        if (int_len == 0) return std::nullopt;
        std::uint64_t whole = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + int_len, whole);
        if (ec != std::errc{}) return std::nullopt;  // more digits than 64 bits hold
        text.remove_prefix(int_len);

        std::string_view fraction;
        if (!text.empty() && text.front() == '.') {
            text.remove_prefix(1);
            const std::size_t frac_len = count_digits(text);
            if (frac_len == 0) return std::nullopt;
            fraction = text.substr(0, frac_len);
            text.remove_prefix(frac_len);
        }

        std::size_t suffix_len = 0;
        while (suffix_len < text.size() && !is_digit(text[suffix_len])) ++suffix_len;
        const std::string_view suffix = text.substr(0, suffix_len);
        text.remove_prefix(suffix_len);

        std::uint64_t unit_millis = 0;
        if (suffix.empty()) {
            // A bare number is seconds, but only on its own: "1m30" is a typo, not 1m30s.
            if (!first_part || !text.empty()) return std::nullopt;
            unit_millis = 1'000;
        } else {
            std::size_t i = next_unit;
            while (i < k_units.size() && k_units[i].suffix != suffix) ++i;
            if (i == k_units.size()) return std::nullopt;  // unknown, repeated or out of order
            unit_millis = k_units[i].millis;
            next_unit = i + 1;
        }
        // Only the last part may carry a fraction ("1m30.5s"), so rounding happens once.
        if (!fraction.empty() && !text.empty()) return std::nullopt;

        if (whole > k_max_finite / unit_millis) return std::nullopt;
        const std::uint64_t part = whole * unit_millis + fraction_millis(fraction, unit_millis);
        if (part > k_max_finite - total) return std::nullopt;
        total += part;
        first_part = false;
    }
    return Millis{static_cast<Millis::rep>(total)};
}

std::string format_duration(Millis duration) {
    if (duration == k_infinite) return "inf";
    if (duration == Millis::zero()) return "0s";

    std::string text;
    // Negative durations only come from bugs, but a message about one must still be exact;
    // unsigned negation keeps Millis::min() from overflowing.
    std::uint64_t left = static_cast<std::uint64_t>(duration.count());
    if (duration < Millis::zero()) {
        text = "-";
        left = std::uint64_t{0} - left;
    }
    for (const Unit& unit : k_units) {
        const std::uint64_t count = left / unit.millis;
        if (count == 0) continue;
        text += std::to_string(count);
        text += unit.suffix;
        left %= unit.millis;
    }
    return text;
}

}  // namespace lockrun
