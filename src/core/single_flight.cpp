#include "core/single_flight.hpp"

#include <chrono>
#include <optional>
#include <variant>

#include "core/errors.hpp"
#include "core/exit_code.hpp"

namespace lockrun {
namespace {

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string describe_holder(const LockHeld& held) {
    const HolderInfo& h = held.holder;
    std::string text = "pid " + std::to_string(h.pid);
    if (!h.host.empty()) text += " on " + h.host;
    if (!h.user.empty()) text += " (user " + h.user + ")";
    if (!h.command.empty()) text += " running '" + h.command + "'";
    if (h.started_unix_ms > 0) {
        Millis held_for(std::max<std::int64_t>(0, unix_now_ms() - h.started_unix_ms));
        text += " for " + format_duration(std::chrono::ceil<std::chrono::seconds>(held_for));
    }
    text += ", fence " + std::to_string(held.fence);
    return text;
}

// The outcome of steps 1-2: the lock, a result to replay, or a conflict after --wait.
struct Conflict {
    LockHeld last_seen;
};
struct Acquired {
    LockAcquired lock;
    Clock::time_point sent_at;  // when the request that took the lock was sent
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
            return Acquired{*acquired, sent_at};
        }
        if (auto* found = std::get_if<ResultFound>(&attempt.outcome)) return std::move(*found);

        const LockHeld& held = std::get<LockHeld>(attempt.outcome);
        if (settings.wait == Millis(0) || wait_deadline.passed()) return Conflict{held};
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
    // A run that the user stopped, that lost its lock or never started has no outcome:
    // its waiters run the command themselves.
    if (report.start_error || report.forwarded_signal || report.lock_lost) return request;

    CachedResult result{report.exit_status, unix_now_ms(), report.duration.count(),
                        settings.me.host, report.output};
    std::string record = encode_cached_result(result);
    // A command killed by a signal (the OOM killer, a timeout) failed this once: its
    // waiters share that, but it is never kept for later callers, --cache-failures or not.
    bool storable =
        report.exit_status == 0 || (settings.cache_failures && !report.killed_by_signal);
    if (storable) {
        reporter.debug("storing " + std::to_string(record.size()) + " bytes for " + settings.key);
        request.stored_record = std::move(record);
    } else {
        request.shared_record = std::move(record);
    }
    return request;
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
        reporter.replay(found->result.output);
        summary.outcome = RunSummary::Outcome::cache_hit;
        summary.exit_code = found->result.exit_code;
        return found->result.exit_code;
    }
    if (auto* conflict = std::get_if<Conflict>(&entry)) {
        std::string message = settings.key + " is held by " + describe_holder(conflict->last_seen);
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
        summary.fence = conflict->last_seen.fence;
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
                      acquired.sent_at);
    lease.report_to(reporter, settings.key);
    RunPolicy policy{settings.on_lock_lost, settings.kill_after, settings.use_cache,
                     settings.use_cache && settings.cache_stderr, settings.cache_max_bytes};
    RunReport report;
    try {
        report = runner.run(command_with_environment(settings, acquired.lock.fence), lease, policy);
    } catch (...) {
        backend.abandon(settings.token);
        throw;
    }

    summary.ran = report.duration;
    summary.exit_code = report.exit_status;

    // Step 4: store what deserves it, release, wake the waiters: one atomic step.
    // A lock already lost has nothing to store; one quick attempt to free it, in case it
    // is still ours on a server that stopped answering, must not hold up the exit.
    FinishRequest finish = finish_request(settings, acquired, report, reporter);
    try {
        if (report.lock_lost) {
            backend.abandon(settings.token);
        } else if (!backend.finish(finish)) {
            report.lock_lost = "the lock was deleted or taken over before the run ended";
        } else {
            reporter.debug("released " + settings.key);
        }
    } catch (const BackendUnavailable& e) {
        reporter.warn("finishing the run of " + settings.key + " failed: " + e.what() +
                      " (a lock not released expires within " + format_duration(settings.lease) +
                      ")");
    }

    // Step 5: the command's status, or 76 when it was stopped for losing the lock.
    if (report.start_error) throw Error(report.exit_status, *report.start_error);
    if (report.lock_lost) {
        summary.outcome = RunSummary::Outcome::lost;
        if (report.stopped_for_lock_loss) {
            summary.exit_code = exit_code::k_lock_lost;
            throw Error(exit_code::k_lock_lost, "lost the lock on " + settings.key + ": " +
                                                    *report.lock_lost + "; stopped the command");
        }
        reporter.warn("lost the lock on " + settings.key + ": " + *report.lock_lost +
                      "; the command ran to its end unguarded and nothing was cached");
    }
    return report.exit_status;
}

}  // namespace lockrun
