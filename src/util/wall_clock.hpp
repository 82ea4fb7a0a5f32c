#pragma once
// The time of day, for what is stored or shown as a date (when a run started, how old a
// result is). Never for a wait or a timeout: those use Deadline, on the monotonic clock.

#include <chrono>
#include <cstdint>

namespace lockrun {

// Milliseconds since the Unix epoch.
inline std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace lockrun
