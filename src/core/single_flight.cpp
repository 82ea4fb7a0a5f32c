#include "core/single_flight.hpp"

#include <chrono>
#include <optional>
#include <variant>

#include "core/errors.hpp"
#include "core/exit_code.hpp"
#include "util/one_line.hpp"

namespace lockrun {
namespace {

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string describe_holder(const LockHeld& held) {
    const HolderInfo& h = held.holder;
    std::string text = "pid " + std::to_string(h.pid);
    // Written by whoever can write to the backend: shown escaped, on one line.
    if (!h.host.empty()) text += " on " + one_line(h.host);
    if (!h.user.empty()) text += " (user " + one_line(h.user) + ")";
    if (!h.command.empty()) text += " running '" + one_line(h.command) + "'";
    if (h.started_unix_ms > 0) {
        Millis held_for(std::max<std::int64_t>(0, unix_now_ms() - h.started_unix_ms));
        text += " for " + format_duration(std::chrono::ceil<std::chrono::seconds>(held_for));
    }
    text += ", fence " + std::to_string(held.fence);
    return text;
}

// The outcome of steps 1-2: the lock, a result to replay, or a conflict after --wait.
struct Conflict {
    // The holder last seen; nullopt when the lock was taken but its confirmation came too
    // late to use (`reason` says so).
    std::optional<LockHeld> last_seen;
    std::string reason;
};
struct Acquired {
    LockAcquired lock;
    Clock::time_point sent_at;  // when the request that confirmed the lock was sent
};
using Entry = std::variant<Acquired, ResultFound, Conflict>;

// Erases the live waiting line however the wait ends.
class ProgressLine {
public:
    explicit ProgressLine(Reporter& reporter) : reporter_(reporter) {}
    ~ProgressLine() {
        if (shown_) reporter_.waiting_ended();
    }
    void show(const std::string& key, const LockHeld& held, Deadline wait_deadline) {
        if (!reporter_.shows_progress()) return;
        reporter_.waiting(key, held, wait_deadline.left());
        shown_ = true;
    }
    // The next redraw, or never when nothing is drawn.
    Deadline next_redraw() const {
        return reporter_.shows_progress() ? Deadline::after(Millis(1000)) : Deadline::never();
    }

private:
    Reporter& reporter_;
    bool shown_ = false;
};

// SPEC §5: a lock is ours until the send time of its confirmation + lease - margin. A reply
// that came after that (a paused server, a slow network) must not start a command that
// would be shot at once: renew first, and use the lock only if that renewal is confirmed
// in time; otherwise release it. nullopt: released, not acquired.
std::optional<Acquired> confirmed_in_time(const SingleFlightSettings& settings, Backend& backend,
                                          Reporter& reporter, Acquired acquired) {
    if (!acquired.lock.expires) return acquired;
    Clock::time_point answered = Clock::now();
    if (answered < lease_valid_until(acquired.sent_at, settings.lease)) return acquired;
    std::string late =
        "the server confirmed the lock on " + settings.key + " after " +
        format_duration(std::chrono::duration_cast<Millis>(answered - acquired.sent_at)) +
        ", past its " + format_duration(settings.lease) + " lease";
    Clock::time_point renewal_sent = Clock::now();
    if (backend.renew_now(settings.token, settings.lease) &&
        Clock::now() < lease_valid_until(renewal_sent, settings.lease)) {
        reporter.info(late + "; renewed it before starting the command");
        acquired.sent_at = renewal_sent;
        return acquired;
    }
    reporter.warn(late + ", and no renewal came back in time; released it without running");
    backend.abandon(settings.token);
    return std::nullopt;
}

// SPEC §1 steps 1-2: look for a result, else take the lock; while another run holds it,
// wait (woken by its release, bounded by its lease and by --wait) and look again.
Entry acquire_or_find_result(const SingleFlightSettings& settings, Backend& backend,
                             Reporter& reporter) {
    Deadline wait_deadline = Deadline::after(settings.wait);
    ProgressLine progress(reporter);
    AcquireRequest request{settings.token, settings.lease, settings.use_cache && !settings.refresh,
                           std::nullopt, settings.me};
    bool armed = false;
    for (;;) {
        Clock::time_point sent_at = Clock::now();
        Acquisition attempt = backend.check_and_acquire(request);
        if (attempt.unreadable_record) {
            reporter.warn("ignoring the cached result of " + settings.key + ": " +
                          *attempt.unreadable_record);
        }
        if (auto* acquired = std::get_if<LockAcquired>(&attempt.outcome)) {
            if (auto usable =
                    confirmed_in_time(settings, backend, reporter, Acquired{*acquired, sent_at})) {
                return *usable;
            }
            // Released again: as if another run had held it; the next attempt decides.
            if (settings.wait == Millis(0) || wait_deadline.passed()) {
                return Conflict{std::nullopt, "the server confirmed the lock too late to use it"};
            }
            continue;
        }
        if (auto* found = std::get_if<ResultFound>(&attempt.outcome)) return std::move(*found);

        const LockHeld& held = std::get<LockHeld>(attempt.outcome);
        if (settings.wait == Millis(0) || wait_deadline.passed()) return Conflict{held, ""};
        // Arm the wake-up before the next attempt, so that a release between that attempt
        // and the wait cannot be missed (SPEC §5).
        if (!armed) {
            backend.prepare_to_wait();
            armed = true;
            continue;
        }
        // This caller now waits for that run: it shares that run's outcome (SPEC §1). A
        // holder not yet written down (fence 0) leaves the run we wait for as it was.
        if (held.fence != 0 && request.waited_for_fence != held.fence) {
            reporter.info("waiting for " + settings.key + ": held by " + describe_holder(held));
            request.waited_for_fence = held.fence;
        }
        // A holder that died is noticed when its lease runs out; the margin lets the
        // server expire the key before we look again.
        Deadline lease_end = held.lease_left == k_infinite
                                 ? Deadline::never()
                                 : Deadline::after(held.lease_left + Millis(5));
        progress.show(settings.key, held, wait_deadline);
        backend.wait_for_release(
            earliest(earliest(wait_deadline, lease_end), progress.next_redraw()));
    }
}

CommandSpec command_with_environment(const SingleFlightSettings& settings, std::uint64_t fence) {
    CommandSpec command = settings.command;
    command.extra_environment.emplace_back("LOCKRUN_KEY", settings.key);
    command.extra_environment.emplace_back("LOCKRUN_FENCING_TOKEN", std::to_string(fence));
    command.extra_environment.emplace_back("LOCKRUN_LEASE_MS",
                                           std::to_string(settings.lease.count()));
    return command;
}

// Step 4's decision: what of this run may be stored for later callers, and what is handed
// to the callers that waited for it (SPEC §1: they share failures too).
FinishRequest finish_request(const SingleFlightSettings& settings, const Acquired& acquired,
                             const RunReport& report, Reporter& reporter) {
    FinishRequest request{settings.token, acquired.lock.fence, std::nullopt, settings.cache_ttl,
                          std::nullopt};
    if (!settings.use_cache) return request;
    if (report.output_over_limit) {
        reporter.warn("not caching the result of " + settings.key + ": its output is over " +
                      "--cache-max-bytes " + std::to_string(settings.cache_max_bytes));
        return request;
    }
    // A run that the user stopped, that was stopped for losing its lock or never started
    // has no outcome: its waiters run the command themselves. One that ran to its end
    // although its lease looked lost is stored only if the lock is still ours when the
    // finish script runs: the script checks that atomically.
    if (report.start_error || report.forwarded_signal || report.stopped_for_lock_loss) {
        return request;
    }

    CachedResult result{report.exit_status, unix_now_ms(), report.duration.count(),
                        settings.me.host,   report.output, acquired.lock.fence};
    std::string record = encode_cached_result(result);
    // A command killed by a signal (the OOM killer, a timeout) failed this once: its
    // waiters share that, but it is never kept for later callers, --cache-failures or not.
    // --cache-ttl 0: coalescing only, shared with the waiters and kept for nobody.
    bool storable =
        settings.cache_ttl > Millis(0) &&
        (report.exit_status == 0 || (settings.cache_failures && !report.killed_by_signal));
    if (storable) {
        reporter.debug("storing " + std::to_string(record.size()) + " bytes for " + settings.key);
        request.stored_record = std::move(record);
    } else {
        request.shared_record = std::move(record);
    }
    return request;
}

// Step 4 itself: nullopt when the lock was still this run's and is now released (with the
// result stored or shared as decided), else what was observed, for the message.
std::optional<std::string> finish(const SingleFlightSettings& settings, Backend& backend,
                                  const RunReport& report, const Acquired& acquired,
                                  Reporter& reporter) {
    FinishRequest request = finish_request(settings, acquired, report, reporter);
    try {
        if (!backend.finish(request)) {
            return std::string("the lock was no longer this run's when lockrun released it");
        }
    } catch (const ResultNotStored& e) {
        // Released, and the waiters woken: the run is over, only its result is lost.
        reporter.warn(settings.key + ": " + e.what());
        return std::nullopt;
    } catch (const BackendUnavailable& e) {
        return std::string("releasing the lock failed: ") + e.what() +
               " (a lock not released expires within " + format_duration(settings.lease) + ")";
    }
    if (report.lock_lost) {
        // The lease looked lost by our clock, yet the server still had our token: nobody
        // else can have taken the key meanwhile.
        reporter.info("the lease of " + settings.key + " looked lost (" + *report.lock_lost +
                      "), but the lock was still this run's when it was released");
    }
    reporter.debug("released " + settings.key);
    return std::nullopt;
}

// SPEC §1: one line for a caller that prints a result it did not run.
std::string describe_replay(const std::string& key, const ResultFound& found) {
    const CachedResult& result = found.result;
    std::string text =
        key + ": replayed the run of " +
        (result.host.empty() ? std::string("an unnamed host") : one_line(result.host));
    if (result.fence != 0) text += " (fence " + std::to_string(result.fence) + ")";
    if (found.shared_outcome) text += ", which this caller waited for";
    Millis age(std::max<std::int64_t>(0, unix_now_ms() - result.created_unix_ms));
    text += ", ended " + format_duration(std::chrono::floor<std::chrono::seconds>(age)) + " ago";
    text += ", exit " + std::to_string(result.exit_code) + "; --refresh runs it again";
    return text;
}

// --on-backend-error run: the job matters more than running it only once.
int run_unguarded(const SingleFlightSettings& settings, CommandRunner& runner, Reporter& reporter,
                  const std::string& failure, RunSummary& summary) {
    summary.outcome = RunSummary::Outcome::backend_error;
    reporter.warn(failure + "; running the command without a lock (--on-backend-error run)");
    LeaseKeeper no_lease = LeaseKeeper::unguarded();
    RunPolicy policy{settings.on_lock_lost, settings.kill_after, false, false, 0};
    RunReport report = runner.run(command_with_environment(settings, 0), no_lease, policy);
    summary.ran = report.duration;
    summary.exit_code = report.exit_status;
    if (report.start_error) throw Error(report.exit_status, *report.start_error);
    return report.exit_status;
}

}  // namespace

int run_single_flight(const SingleFlightSettings& settings, Backend& backend, CommandRunner& runner,
                      Reporter& reporter, RunSummary& summary) {
    // Steps 1-2: a result to replay, the lock, or a conflict.
    Entry entry;
    Clock::time_point wait_started = Clock::now();
    try {
        entry = acquire_or_find_result(settings, backend, reporter);
        summary.waited = std::chrono::duration_cast<Millis>(Clock::now() - wait_started);
    } catch (const BackendUnavailable& e) {
        summary.waited = std::chrono::duration_cast<Millis>(Clock::now() - wait_started);
        backend.abandon(settings.token);
        if (!settings.run_unguarded_on_backend_error) throw;
        return run_unguarded(settings, runner, reporter, e.what(), summary);
    } catch (const Error&) {
        summary.waited = std::chrono::duration_cast<Millis>(Clock::now() - wait_started);
        // The request that took the lock may have been answered after we gave up on it.
        backend.abandon(settings.token);
        throw;
    }
    if (auto* found = std::get_if<ResultFound>(&entry)) {
        reporter.debug(std::string(found->shared_outcome ? "shared outcome" : "cache hit") +
                       " for " + settings.key + ": exit " +
                       std::to_string(found->result.exit_code));
        // SPEC §1: a replay is never silent.
        reporter.notice(describe_replay(settings.key, *found));
        reporter.replay(found->result.output);
        summary.outcome = RunSummary::Outcome::cache_hit;
        summary.exit_code = found->result.exit_code;
        return found->result.exit_code;
    }
    if (auto* conflict = std::get_if<Conflict>(&entry)) {
        std::string message = conflict->last_seen ? settings.key + " is held by " +
                                                        describe_holder(*conflict->last_seen)
                                                  : settings.key + ": " + conflict->reason;
        message += settings.wait == Millis(0)
                       ? "; not waiting (see --wait)"
                       : "; gave up after --wait " + format_duration(settings.wait);
        if (settings.conflict_exit_code == 0) {
            reporter.info(message);
        } else {
            reporter.warn(message);
        }
        summary.outcome = RunSummary::Outcome::conflict;
        summary.exit_code = settings.conflict_exit_code;
        if (conflict->last_seen) summary.fence = conflict->last_seen->fence;
        return settings.conflict_exit_code;
    }

    // Step 3: holding the lock (the acquisition itself was the double-check), run the
    // command while the lease is renewed.
    const Acquired& acquired = std::get<Acquired>(entry);
    summary.outcome = RunSummary::Outcome::ran;
    summary.fence = acquired.lock.fence;
    reporter.debug("acquired " + settings.key + " with fence " +
                   std::to_string(acquired.lock.fence));
    LeaseKeeper lease(backend, settings.token, settings.lease, settings.io_timeout,
                      acquired.sent_at, acquired.lock.expires);
    lease.report_to(reporter, settings.key);
    RunPolicy policy{settings.on_lock_lost, settings.kill_after, settings.use_cache,
                     settings.use_cache && settings.cache_stderr, settings.cache_max_bytes};
    RunReport report;
    try {
        CommandSpec command = command_with_environment(settings, acquired.lock.fence);
        // On the local backend the lock then stays held while any of the command's
        // processes lives, even if lockrun itself is killed (SPEC §4).
        command.inherited_fd = backend.descriptor_for_command();
        report = runner.run(command, lease, policy);
    } catch (...) {
        backend.abandon(settings.token);
        throw;
    }

    summary.ran = report.duration;
    summary.exit_code = report.exit_status;

    // Step 4: store what deserves it, release, wake the waiters: one atomic step. A run
    // stopped for losing its lock has nothing to store; one quick attempt frees the lock in
    // case it is still ours on a server that stopped answering.
    std::string status_text = "exit " + std::to_string(report.exit_status);
    if (report.stopped_for_lock_loss) {
        backend.abandon(settings.token);
        summary.outcome = RunSummary::Outcome::lost;
        summary.exit_code = exit_code::k_lock_lost;
        throw Error(exit_code::k_lock_lost, "lost the lock on " + settings.key + ": " +
                                                *report.lock_lost + "; stopped the command (" +
                                                status_text + ")");
    }
    std::optional<std::string> not_released = finish(settings, backend, report, acquired, reporter);

    // Step 5: the command's status, or 76 when another run may have overlapped it.
    if (report.start_error) throw Error(report.exit_status, *report.start_error);
    if (!not_released) return report.exit_status;
    if (report.ended_in_lease) {
        // The lock was ours until the command ended: nothing overlapped it, only the
        // release failed (SPEC §3: say what was observed).
        reporter.warn("the command of " + settings.key + " ended within its lease (" + status_text +
                      "), but " + *not_released + "; its result was not stored");
        return report.exit_status;
    }
    summary.outcome = RunSummary::Outcome::lost;
    std::string message = "lost the lock on " + settings.key + ": " +
                          (report.lock_lost ? *report.lock_lost : *not_released) +
                          "; the command ran to its end (" + status_text +
                          ") while another run may have held the key; nothing was stored";
    if (settings.on_lock_lost == OnLockLost::ignore) {
        reporter.warn(message + " (--on-lock-lost ignore)");
        return report.exit_status;
    }
    summary.exit_code = exit_code::k_lock_lost;
    throw Error(exit_code::k_lock_lost, message);
}

}  // namespace lockrun
