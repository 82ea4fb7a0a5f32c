#pragma once
// Keeps a lock's lease alive while the command runs (SPEC §5 renew): a renewal every
// lease/3, and the holder's own monotonic-clock rule for when the lock must be presumed
// lost. Driven by the command's event loop, which polls poll_fd() and calls on_wakeup() by
// next_wakeup(); it makes no system calls of its own.

#include <optional>
#include <string>

#include "core/backend.hpp"
#include "core/reporter.hpp"
#include "util/deadline.hpp"

namespace lockrun {

// SPEC §5: a lock confirmed (acquired or renewed) by a request sent at `sent_at` is ours
// until sent_at + lease - (1% of lease + 2 ms); the margin covers clock drift between us
// and the server.
Clock::time_point lease_valid_until(Clock::time_point sent_at, Millis lease);

class LeaseKeeper {
public:
    // `acquire_sent_at`: when the request that took the lock was sent.
    // `expires`: false for a backend whose locks have no lease (local flock): then only a
    // renewal that finds the lock gone loses it, never the clock.
    LeaseKeeper(Backend& backend, std::string token, Millis lease, Millis io_timeout,
                Clock::time_point acquire_sent_at, bool expires = true);
    // For a command run without a lock (--on-backend-error run): nothing to keep.
    static LeaseKeeper unguarded() { return LeaseKeeper(); }

    Deadline next_wakeup() const;
    int poll_fd() const;
    // Reads a renewal reply that arrived, sends a renewal that is due, notices expiry.
    void on_wakeup();

    // Where renewals and their failures are logged (debug and warn), under `key`.
    void report_to(Reporter& reporter, std::string key) {
        reporter_ = &reporter;
        key_ = std::move(key);
    }

    bool lost() const { return loss_reason_.has_value(); }
    // Whether the lock is ours at this instant by the holder's own clock (SPEC §5): not
    // lost, and within the validity of the last confirmed renewal. Always true unguarded,
    // and for a lock that does not expire (local) until it is found lost.
    bool valid_now() const;
    // When a watcher of the command (exec/group_watcher.hpp) is to stop it if we have not
    // acted by then, as when we are stopped ourselves: halfway between the end of the
    // lease's validity by our clock, when we stop it, and the earliest the server may let
    // the lock expire (the margin of lease_valid_until). None when there is no such time:
    // unguarded, a lock that does not expire (local), or one already lost.
    std::optional<Clock::time_point> unattended_end() const;
    // Why the lock was lost, for the one line the user reads.
    const std::string& loss_reason() const { return *loss_reason_; }

private:
    LeaseKeeper() = default;
    void take_reply();
    void send_if_due(Clock::time_point now);
    void note_failure(const std::string& failure);
    Millis retry_interval() const;
    // When the lock stops being ours without a confirmed renewal; never for no expiry.
    Clock::time_point valid_until() const;

    Backend* backend_ = nullptr;  // null: unguarded
    std::string token_;
    Millis lease_{0};
    Millis io_timeout_{0};
    bool expires_ = true;
    Clock::time_point confirmed_sent_at_;
    Clock::time_point next_send_at_;
    std::optional<Clock::time_point> in_flight_sent_at_;
    std::string last_failure_;
    std::optional<std::string> loss_reason_;
    Reporter* reporter_ = nullptr;
    std::string key_;
};

}  // namespace lockrun
