#pragma once
// What the single-flight algorithm needs from a place that holds locks and results
// (SPEC §5 for Redis, §6 for the local backend). Calls throw BackendUnavailable when the
// backend cannot be reached, ConfigError when it refuses us, Interrupted when a forwarded
// signal arrives during a wait; every call is bounded by the backend's own deadlines.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/cached_result.hpp"
#include "core/live_output.hpp"
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
    // -n N (SPEC §9): up to N holders at once; 1: an exclusive lock. Lock only: a request
    // with more never reads or stores results.
    int max_holders = 1;
    // --shared (SPEC §9): a reader's hold, beside other readers; lock only.
    bool shared = false;
    // How long this caller goes on waiting (--wait left; k_infinite): an exclusive caller's
    // mark that keeps new readers out lasts no longer.
    Millis wait_left = k_infinite;
    // This run will publish its output for its followers (SPEC §1), as the lock says to
    // the callers that find it held.
    bool publishes_live = false;
};

// The lock is ours; `fence` is the new fencing token.
struct LockAcquired {
    std::uint64_t fence = 0;
    // false for a lock without a lease (local flock): it is ours until released or forced
    // free, however long the holder is paused.
    bool expires = true;
};
// Another run holds the lock.
struct LockHeld {
    std::uint64_t fence = 0;  // 0: not known yet (a holder between locking and writing down)
    HolderInfo holder;
    Millis lease_left{0};  // k_infinite when the backend's locks do not expire
    bool live = false;     // the run publishes its output: its waiters can follow it
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

// A stored result as the operator commands see it.
struct StoredResult {
    std::variant<CachedResult, UnreadableRecord> record;
    Millis ttl_left{0};
    std::uint64_t size_bytes = 0;  // of the stored record
};

// Who holds the key (nullopt: free) and what is stored for it. A semaphore (-n N, SPEC §9)
// has `holders`, the first to see its lease run out first, and `max_holders` N; `holder` is
// then the first of them.
struct KeyStatus {
    std::optional<LockHeld> holder;
    std::optional<StoredResult> stored;
    std::vector<LockHeld> holders{};
    int max_holders = 1;
    bool shared = false;  // `holders` are readers (--shared)
};

// One key with a held lock or a stored result, for `lockrun list` (SPEC §7).
struct ListedKey {
    // The key as the user gave it; when the backend cannot recover it (a Redis key whose
    // tag is its SHA-256, a local file of lockrun 0.1), the hex digest in its place and
    // name_known false.
    std::string key;
    bool name_known = true;
    KeyStatus status;
};

struct FinishRequest {
    std::string token;
    std::uint64_t fence = 0;
    std::optional<std::string> stored_record;  // encoded CachedResult to keep for cache_ttl
    Millis cache_ttl{0};
    std::optional<std::string> shared_record;  // encoded outcome for the waiters of this run
    Millis shared_ttl{0};                      // how long shared_record stays readable
    std::optional<LiveEnd> live_end{};         // published last, for the run's followers
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
    // How a release reaches this caller once prepare_to_wait() has armed the wake-up, and
    // why, for -v; empty when there is nothing to choose.
    virtual std::string how_waiters_are_woken() const { return {}; }
    // Blocks until a release of this key is announced or `deadline` passes. It may also
    // return early (a wake-up lost with its server, say): the caller then looks again.
    virtual void wait_for_release(Deadline deadline) = 0;

    // Sends one renewal of our lock without waiting for the reply. A backend whose locks
    // do not expire still checks here that the lock is ours (an operator may have forced
    // it free), and may have the verdict ready at once.
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

    // One renewal, waited for (bounded by the backend's step deadline): true when the lock
    // is still ours and its lease starts afresh. For a lock whose acquisition was confirmed
    // too late to use (SPEC §5 validity rule), before the command is started.
    virtual bool renew_now(const std::string& token, Millis lease) = 0;

    // A descriptor the command must inherit so that the lock outlives lockrun for as long
    // as any of the command's processes live (SPEC §4, local flock); -1 when the backend
    // has none. Valid while the lock is held.
    virtual int descriptor_for_command() const { return -1; }
    // Every descriptor the command must inherit for that: the lock's, and those of the
    // holds a semaphore's slot comes with (local: the key's shared lock and its N).
    virtual std::vector<int> descriptors_for_command() const {
        int fd = descriptor_for_command();
        return fd >= 0 ? std::vector<int>{fd} : std::vector<int>{};
    }
    // Whether a lease that the server confirmed proves that nobody else held the key
    // meanwhile. Not with failover (Sentinel, Cluster): a promoted replica may never have
    // had the lock while the old master went on confirming renewals. Then a release that
    // finds the lock gone, or fails, is a lost lock (76) even for a command that ended
    // within its lease.
    virtual bool lease_proves_exclusion() const { return true; }

    // SPEC §1, following live: whether runs publish their output here and callers follow
    // them (not where results are signed: what a follower prints must be as trustworthy as
    // a replay, and the pieces are not signed); where this run, holding the lock with
    // `fence`, publishes its output (null: it cannot), and a view of the run `held`.
    virtual bool follows_live() const { return false; }
    virtual std::unique_ptr<LivePublisher> publish_live(std::uint64_t /*fence*/, Millis /*lease*/) {
        return nullptr;
    }
    virtual std::unique_ptr<LiveFeed> follow_live(const LockHeld& /*held*/) { return nullptr; }

    // --stale (SPEC §1): claims the key's background refresh for `period`; false when another
    // caller claimed it within its period (a refresh is under way, or was tried lately: a
    // failing one is not tried again by every caller).
    virtual bool claim_refresh(Millis period) = 0;

    // For the operator commands (SPEC §7). Reads change nothing.
    virtual KeyStatus read_status() = 0;
    // Removes the stored result; false when there was none.
    virtual bool drop_stored_result() = 0;
    // Frees the lock whoever holds it and wakes the waiters; the holder finds out at its
    // next renewal and stops its command. False when the lock was free.
    virtual bool force_release() = 0;
    // Every key under this backend's namespace (prefix, state dir) with a held lock or a
    // stored result, sorted by key. Works on a backend made for any key.
    virtual std::vector<ListedKey> list_keys() = 0;
};

}  // namespace lockrun
