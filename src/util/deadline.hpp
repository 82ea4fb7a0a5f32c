#pragma once
// A point on the monotonic clock by which something must be done. Every wait in lockrun
// has one, so that no step can hang.

#include <algorithm>
#include <chrono>

#include "util/duration.hpp"

namespace lockrun {

using Clock = std::chrono::steady_clock;

class Deadline {
public:
    static Deadline never() { return Deadline(Clock::time_point::max()); }
    static Deadline after(Millis duration) {
        if (duration == k_infinite) return never();
        return Deadline(Clock::now() + duration);
    }
    explicit Deadline(Clock::time_point at) : at_(at) {}

    bool is_never() const { return at_ == Clock::time_point::max(); }
    bool passed() const { return !is_never() && Clock::now() >= at_; }
    Clock::time_point at() const { return at_; }

    // Time left, clamped at zero; k_infinite for never().
    Millis left() const {
        if (is_never()) return k_infinite;
        auto left = std::chrono::ceil<Millis>(at_ - Clock::now());
        return std::max(left, Millis(0));
    }
    // Milliseconds for poll(2): -1 for never, rounded up so that a poll never returns
    // just before its deadline and spins.
    int poll_timeout_ms() const {
        if (is_never()) return -1;
        auto left_ms = left().count();
        return static_cast<int>(std::min<long long>(left_ms, 1'000'000'000));
    }

    friend Deadline earliest(Deadline a, Deadline b) { return a.at_ <= b.at_ ? a : b; }

private:
    Clock::time_point at_;
};

}  // namespace lockrun
