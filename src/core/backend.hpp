#pragma once
// What the single-flight algorithm needs from a place that holds locks and results
// (SPEC §5 for Redis, §6 for the local backend). Calls throw BackendUnavailable when the
// backend cannot be reached, ConfigError when it refuses us, Interrupted when a forwarded
// signal arrives during a wait; every call is bounded by the backend's own deadlines.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "core/cached_result.hpp"
#include "util/deadline.hpp"

namespace lockrun {

// Who holds a lock, as stored with it and shown to waiters and operators.
struct HolderInfo {
    std::string host;
    std::int64_t pid = 0;
    std::string user;
    std::string command;
    std::int64_t started_unix_ms = 0;
};

struct AcquireRequest {
    std::string token;  // random, one per run: proves that a lock is ours
    Millis lease{0};
    bool read_cache = true;  // false with --no-cache and --refresh
    // The fencing token of the run this caller found holding the lock and waited for:
    // that run's outcome, failure included, is shared with this caller (SPEC §1).
    std::optional<std::uint64_t> waited_for_fence;
    HolderInfo holder;  // this run, stored with the lock
};

// The lock is ours; `fence` is the new fencing token.
struct LockAcquired {
    std::uint64_t fence = 0;
};
// Another run holds the lock.
struct LockHeld {
    std::uint64_t fence = 0;
    HolderInfo holder;
    Millis lease_left{0};  // k_infinite when the backend's locks do not expire
};
// A result to replay instead of running: a stored one, or the outcome of the run that this
// caller waited for.
struct ResultFound {
    CachedResult result;
    bool shared_outcome = false;  // true: not stored, handed to the waiters of one run
};
// A record was there but could not be read: a miss, with the reason for one warning.
struct Acquisition {
    std::variant<LockAcquired, LockHeld, ResultFound> outcome;
    std::optional<std::string> unreadable_record;
};

struct FinishRequest {
    std::string token;
    std::uint64_t fence = 0;
    std::optional<std::string> stored_record;  // encoded CachedResult to keep for cache_ttl
    Millis cache_ttl{0};
    std::optional<std::string> shared_record;  // encoded outcome for the waiters of this run
};

class Backend {
public:
    virtual ~Backend() = default;

    // SPEC §1 steps 1-2 in one atomic step: a result to replay, the lock, or its holder.
    // Taking a lock this caller already holds (same token) refreshes it and returns it.
    virtual Acquisition check_and_acquire(const AcquireRequest& request) = 0;

    // Arms the wake-up for the next release of this key. Called before the acquisition
    // attempt that may have to wait, so that no release between the two is missed.
    virtual void prepare_to_wait() = 0;
    // Blocks until a release of this key is announced or `deadline` passes.
    virtual void wait_for_release(Deadline deadline) = 0;

    // Whether a held lock expires unless renewed (Redis) or lasts while we live (flock).
    virtual bool lease_expires() const = 0;
    // Sends one renewal of our lock without waiting for the reply.
    virtual void send_renewal(const std::string& token, Millis lease, Deadline deadline) = 0;
    // The fd to poll for the renewal's reply; -1 when none is pending.
    virtual int renewal_fd() const = 0;
    // The renewal's verdict once its reply has arrived: true renewed, false the lock is gone
    // or someone else's. nullopt while the reply is still on its way.
    virtual std::optional<bool> take_renewal_reply() = 0;

    // Stores the results (if any), releases the lock and wakes the waiters, atomically.
    // Returns false when the lock was no longer ours: then nothing was stored.
    virtual bool finish(const FinishRequest& request) = 0;

    // Best-effort release after a failure or a signal, when the lock may or may not be
    // ours; never throws.
    virtual void abandon(const std::string& token) noexcept = 0;
};

}  // namespace lockrun
