#pragma once
// Durations as users write them (SPEC §2): "250ms", "30s", "5m", "2h", "1d", a bare
// number of seconds, a decimal fraction ("1.5s"), and "inf" where the caller allows it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lockrun {

using Millis = std::chrono::milliseconds;

// Stands for "inf": no limit.
inline constexpr Millis k_infinite = Millis::max();

// The longest finite duration accepted: 100 years of 365.25 days. Bounded so that no
// deadline (a monotonic clock in nanoseconds plus a duration) can ever overflow.
inline constexpr Millis k_longest_duration{36'525LL * 86'400'000};

// Returns nullopt for anything that is not a well-formed, non-negative duration of at most
// k_longest_duration (k_infinite is only returned for "inf" when allow_infinite). Sub-millisecond
// remainders are rounded up so that "0.0001s" is never silently zero.
std::optional<Millis> parse_duration(std::string_view text, bool allow_infinite);

// "250ms", "30s", "1m30s", "2h", "inf": the shortest exact spelling, for messages.
std::string format_duration(Millis duration);

}  // namespace lockrun
