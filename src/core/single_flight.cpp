#include "core/single_flight.hpp"

#include <chrono>
#include <optional>
#include <variant>

#include "core/errors.hpp"
#include "core/exit_code.hpp"
#include "core/follow_run.hpp"
#include "core/holder_text.hpp"
#include "core/shared_files.hpp"
#include "util/one_line.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

// How long the outcome of a run that was not stored stays readable for the callers that
// waited for it: they read it within moments of being woken.
constexpr Millis k_shared_outcome_ttl{10'000};

// How often a waiter looks again while a failover makes the backend unreachable.
constexpr Millis k_failover_retry{1000};

using Kind = SingleFlightOutcome::Kind;

// The ways steps 1-2 end: the lock, a result to replay, a conflict after --wait, a backend
// that cannot be reached (with --on-backend-error run), or an error.
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
struct Unreachable {
    std::string reason;
};
struct Failed {
    std::exception_ptr error;
};
// The run `held` publishes its output: follow it live (SPEC §1).
struct FollowRun {
    LockHeld held;
};
using Entry = std::variant<Acquired, ResultFound, Conflict, Unreachable, Failed, FollowRun>;

// What a caller carries from one look to the next, across the follows that fell through.
struct Looking {
    const Deadline wait_deadline;  // one --wait for every look and every follow
    // The run this caller waits for (SPEC §1): it shares that run's outcome.
    std::optional<std::uint64_t> waited_for_fence{};
    // A run found not followable: waited for as by a caller that does not follow.
    std::optional<std::uint64_t> not_followed_fence{};
};

// Whether this caller follows the runs it waits for, and publishes its own: it shares
// their outcome, and needs no --files from them (a follower gets no record to extract them
// from).
bool follows(const SingleFlightSettings& settings, const Backend& backend) {
    return settings.use_cache && !settings.refresh && settings.files.empty() &&
           settings.max_holders <= 1 && !settings.shared && backend.follows_live();
}

// The lock from its acquisition until the finish step releases it. Any other way out (an
// error, a run stopped for losing the lock) abandons it: one quick attempt frees it in case
// it is still ours (SPEC §3: nothing is left held).
class HeldLock {
public:
    HeldLock(Backend& backend, const std::string& token, const Acquired& acquired)
        : backend(backend), token(token), acquired(acquired) {}
    HeldLock(const HeldLock&) = delete;
    HeldLock& operator=(const HeldLock&) = delete;
    ~HeldLock() {
        if (!finished_) backend.abandon(token);
    }
    // Backend::finish; whatever it answers or throws, the lock is not abandoned after it.
    bool finish(const FinishRequest& request) {
        finished_ = true;
        return backend.finish(request);
    }

    Backend& backend;
    const std::string& token;
    const Acquired acquired;

private:
    bool finished_ = false;
};

// An error ends the run: its code is lockrun's exit status.
SingleFlightOutcome ended_by(std::exception_ptr error, SingleFlightOutcome outcome) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        outcome.exit_status = e.exit_code();
    }
    outcome.failure = std::move(error);
    return outcome;
}

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
Entry take_lock_or_find_result(const SingleFlightSettings& settings, Backend& backend,
                               Reporter& reporter, Looking& looking) {
    const Deadline wait_deadline = looking.wait_deadline;
    ProgressLine progress(reporter);
    AcquireRequest request{
        settings.token,           settings.lease, settings.use_cache && !settings.refresh,
        looking.waited_for_fence, settings.me,    std::max(1, settings.max_holders),
        settings.shared};
    // Only a run whose outcome can be shared has followers.
    request.publishes_live = follows(settings, backend);
    bool armed = false;
    bool said_unavailable = false;
    std::string said_wake_up;
    // How a release reaches this waiter (-v): said when chosen, and again if it changes.
    auto say_how_woken = [&] {
        std::string how = backend.how_waiters_are_woken();
        if (how.empty() || how == said_wake_up) return;
        reporter.info(settings.key + ": listening for its release with " + how);
        said_wake_up = std::move(how);
    };
    for (;;) {
        Clock::time_point sent_at = Clock::now();
        std::optional<Acquisition> looked;
        try {
            request.wait_left = wait_deadline.left();
            // The holder record's start is when this attempt may take the lock: "held by ...
            // for 1s" is how long the run has held it, not how long this caller also waited.
            request.holder.started_unix_ms = unix_now_ms();
            looked = backend.check_and_acquire(request);
        } catch (const BackendUnavailable& e) {
            // SPEC §8: a waiter survives a failover. Where one can happen, a look that fails
            // while this caller waits is tried again, about once a second, while --wait
            // lasts; each look is still one step. Elsewhere (one server) it is 69 at once.
            if (!armed || backend.lease_proves_exclusion() || wait_deadline.passed() ||
                dynamic_cast<const NotReplicated*>(&e) != nullptr) {
                throw;
            }
            if (!said_unavailable) {
                reporter.info(settings.key + ": " + e.what() +
                              "; trying again while --wait lasts (a failover?)");
                said_unavailable = true;
            }
            backend.wait_for_release(earliest(wait_deadline, Deadline::after(k_failover_retry)));
            continue;
        }
        Acquisition& attempt = *looked;
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
        // A follower learns of the run's end from the run's output, not from the release:
        // it arms no wake-up (a second connection and a second look, or an inotify
        // instance whose close waits for the kernel), which in a stampede every waiter paid.
        const bool followable = held.live && held.fence != 0 && follows(settings, backend) &&
                                looking.not_followed_fence != held.fence;
        // Arm the wake-up before the next attempt, so that a release between that attempt
        // and the wait cannot be missed (SPEC §5).
        if (!armed && !followable) {
            backend.prepare_to_wait();
            armed = true;
            say_how_woken();
            continue;
        }
        // This caller now waits for that run: it shares that run's outcome (SPEC §1). A
        // holder not yet written down (fence 0) leaves the run we wait for as it was.
        if (held.fence != 0 && request.waited_for_fence != held.fence) {
            reporter.info("waiting for " + settings.key + ": held by " + describe_holder(held));
            request.waited_for_fence = held.fence;
            looking.waited_for_fence = held.fence;
        }
        if (followable) return FollowRun{held};
        // A holder that died is noticed when its lease runs out; the margin lets the
        // server expire the key before we look again.
        Deadline lease_end = held.lease_left == k_infinite
                                 ? Deadline::never()
                                 : Deadline::after(held.lease_left + Millis(5));
        progress.show(settings.key, held, wait_deadline);
        backend.wait_for_release(
            earliest(earliest(wait_deadline, lease_end), progress.next_redraw()));
        say_how_woken();
    }
}

// Steps 1-2 as a value, an error included. A request may take the lock although its answer
// is lost or comes after we gave up on it: whatever the error, nothing stays held.
Entry acquire_or_find_result(const SingleFlightSettings& settings, Backend& backend,
                             Reporter& reporter, Looking& looking) {
    try {
        return take_lock_or_find_result(settings, backend, reporter, looking);
    } catch (const Error& e) {
        backend.abandon(settings.token);
        if (settings.run_unguarded_on_backend_error &&
            dynamic_cast<const BackendUnavailable*>(&e) != nullptr &&
            dynamic_cast<const NotReplicated*>(&e) == nullptr) {
            return Unreachable{e.what()};
        }
        return Failed{std::current_exception()};
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

// SPEC §3: 127 when the command is not there, 126 when it cannot be run.
std::exception_ptr start_error(const StartFailure& failure) {
    int code = failure.reason == StartFailure::Reason::not_found ? exit_code::k_not_found
                                                                 : exit_code::k_not_executable;
    return std::make_exception_ptr(Error(code, failure.message));
}

// --stale: one caller a period starts the refresh; the others (and every caller for a
// period after a refresh that stored nothing) only replay. A backend that cannot say
// claims nothing: the replay stands.
bool claim_refresh(Backend& backend, Millis period, const std::string& key, Reporter& reporter) {
    try {
        return backend.claim_refresh(period);
    } catch (const Error& e) {
        reporter.warn(key + ": cannot start a refresh of its stale result: " + e.what());
        return false;
    }
}

std::string joined(const std::vector<std::string>& paths) {
    std::string text;
    for (const std::string& path : paths) text += (text.empty() ? "" : " ") + path;
    return text;
}

// --files: a result serves this caller only with the files it asks for, put in place
// before its output is printed (SPEC §1). false: it cannot serve, and this caller runs the
// command instead (the run stores a result that can). An extraction this host cannot do is
// an error (73).
bool files_in_place(const ResultFound& found, const SingleFlightSettings& settings,
                    SharedFiles& files, Reporter& reporter) {
    if (settings.files.empty()) return true;  // files nobody asked for are left in the record
    const CachedResult& result = found.result;
    if (result.files != settings.files) {
        // A failed run shares no files: the callers that waited for it share its status.
        if (result.files.empty() && result.exit_code != 0) return true;
        reporter.warn("the result of " + settings.key + " was stored " +
                      (result.files.empty() ? std::string("without --files")
                                            : "with --files " + joined(result.files)) +
                      ", not --files " + joined(settings.files) + "; running the command");
        return false;
    }
    ExtractedFiles extracted = files.extract(result);
    switch (extracted.kind) {
        case ExtractedFiles::Kind::extracted:
            reporter.info(settings.key + ": extracted its --files (" +
                          std::to_string(extracted.entries) +
                          " entries) into the working directory");
            return true;
        case ExtractedFiles::Kind::refused:
            reporter.warn("ignoring the stored result of " + settings.key +
                          ": its --files archive is refused (" + extracted.reason +
                          "); nothing was extracted, running the command");
            return false;
        case ExtractedFiles::Kind::failed:
            break;
    }
    throw Error(exit_code::k_cannot_create,
                "cannot put the --files of " + settings.key + " in place: " + extracted.reason +
                    " (files already in place are whole; nothing was replayed)");
}

// SPEC §1: a replay is never silent.
SingleFlightOutcome replay(const ResultFound& found, const SingleFlightSettings& settings,
                           Backend& backend, Reporter& reporter, SingleFlightOutcome outcome) {
    const CachedResult& result = found.result;
    reporter.debug(std::string(found.shared_outcome ? "shared outcome" : "cache hit") + " for " +
                   settings.key + ": exit " + std::to_string(result.exit_code));
    std::string line =
        settings.key + ": replayed the run of " +
        (result.host.empty() ? std::string("an unnamed host") : one_line(result.host));
    if (result.fence != 0) line += " (fence " + std::to_string(result.fence) + ")";
    if (found.shared_outcome) line += ", which this caller waited for";
    Millis age(std::max<std::int64_t>(0, unix_now_ms() - result.created_unix_ms));
    line += ", ended " + format_duration(std::chrono::floor<std::chrono::seconds>(age)) + " ago";
    line += ", exit " + std::to_string(result.exit_code);
    // SPEC §1 --stale: served at once, and run again in the background (a result shared
    // with the callers of a run that just ended is never stale).
    if (settings.stale && !found.shared_outcome && age > *settings.stale) {
        line += "; stale (older than --stale " + format_duration(*settings.stale) + "): ";
        // At least a second: --stale 0 (refresh after every replay) must not start one
        // refresh a caller.
        const Millis period = std::max(*settings.stale, Millis(1000));
        if (claim_refresh(backend, period, settings.key, reporter)) {
            outcome.stale_fence = result.fence;
            line += "refreshing it in the background";
        } else {
            line += "a refresh was started within the last " + format_duration(period);
        }
    } else {
        line += "; --refresh runs it again";
    }
    reporter.notice(line, {{"outcome", std::string("cache_hit")},
                           {"waited_ms", outcome.waited.count()},
                           {"exit_code", result.exit_code},
                           {"fence", static_cast<std::int64_t>(result.fence)},
                           {"result_host", result.host},
                           {"result_age_ms", age.count()}});
    if (std::string stopped = reporter.replay(result); !stopped.empty()) {
        return ended_by(std::make_exception_ptr(InternalError("the replay of " + settings.key +
                                                              " stopped short: " + stopped)),
                        outcome);
    }
    outcome.kind = Kind::replayed;
    outcome.exit_status = result.exit_code;
    return outcome;
}

// No lock within --wait: the conflict code (-E), and a line saying who holds the key.
SingleFlightOutcome give_up(const Conflict& conflict, const SingleFlightSettings& settings,
                            Reporter& reporter, SingleFlightOutcome outcome) {
    std::string message = conflict.last_seen
                              ? settings.key + " is held by " + describe_holder(*conflict.last_seen)
                              : settings.key + ": " + conflict.reason;
    message += settings.wait == Millis(0)
                   ? "; not waiting (see --wait)"
                   : "; gave up after --wait " + format_duration(settings.wait);
    LogFields fields{{"outcome", std::string("conflict")},
                     {"waited_ms", outcome.waited.count()},
                     {"exit_code", settings.conflict_exit_code}};
    if (conflict.last_seen) {
        const HolderInfo& holder = conflict.last_seen->holder;
        fields.insert(fields.end(),
                      {{"fence", static_cast<std::int64_t>(conflict.last_seen->fence)},
                       {"holder_host", holder.host},
                       {"holder_pid", std::int64_t{holder.pid}}});
    }
    if (settings.conflict_exit_code == 0) {
        reporter.info(message, fields);
    } else {
        reporter.warn(message, fields);
    }
    outcome.kind = Kind::conflict;
    outcome.exit_status = settings.conflict_exit_code;
    if (conflict.last_seen) outcome.fence = conflict.last_seen->fence;
    return outcome;
}

// --on-backend-error run: the job matters more than running it only once.
SingleFlightOutcome run_unguarded(const Unreachable& unreachable,
                                  const SingleFlightSettings& settings, CommandRunner& runner,
                                  Reporter& reporter, SingleFlightOutcome outcome) {
    outcome.kind = Kind::ran_unguarded;
    reporter.warn(
        unreachable.reason + "; running the command without a lock (--on-backend-error run)",
        {{"outcome", std::string("backend_error")}, {"waited_ms", outcome.waited.count()}});
    LeaseKeeper no_lease = LeaseKeeper::unguarded();
    RunPolicy policy{settings.on_lock_lost, settings.kill_after, false, false, 0};
    RunReport report = runner.run(command_with_environment(settings, 0), no_lease, policy);
    outcome.ran = report.duration;
    outcome.exit_status = report.exit_status;
    outcome.output_failed = report.output_failed;
    if (report.start_failure) return ended_by(start_error(*report.start_failure), outcome);
    return outcome;
}

// Step 3: the command, told its key, fence and lease, while the lease is renewed.
RunReport run_holding(const HeldLock& lock, const SingleFlightSettings& settings,
                      CommandRunner& runner, LeaseKeeper& lease, LivePublisher* live,
                      Reporter& reporter) {
    reporter.add_context("fence", static_cast<std::int64_t>(lock.acquired.lock.fence));
    reporter.debug("acquired " + settings.key + " with fence " +
                   std::to_string(lock.acquired.lock.fence));
    RunPolicy policy{settings.on_lock_lost,    settings.kill_after,
                     settings.use_cache,       settings.use_cache && settings.cache_stderr,
                     settings.cache_max_bytes, live};
    CommandSpec command = command_with_environment(settings, lock.acquired.lock.fence);
    // On the local backend the lock then stays held while any of the command's processes
    // lives, even if lockrun itself is killed (SPEC §4).
    command.inherited_fds = lock.backend.descriptors_for_command();
    return runner.run(command, lease, policy);
}

// What --cache-max-bytes leaves for the files once the output is in: the output's own
// limit and slack (exec/capture.cpp) apply to the two together.
std::uint64_t record_room(const SingleFlightSettings& settings, const CachedResult& result) {
    const std::uint64_t limit = settings.cache_max_bytes + settings.cache_max_bytes / 64 + 1024;
    std::uint64_t output = result.compressed_output.size();
    for (const OutputChunk& chunk : result.output) output += chunk.bytes.size();
    return output >= limit ? 0 : limit - output;
}

// --files: the paths archived into the result (SPEC §1). false: they could not be, and the
// result is neither stored nor shared: a caller would lack the files it asked for.
bool add_files(CachedResult& result, const SingleFlightSettings& settings, SharedFiles& files,
               std::uint64_t room, LeaseKeeper& lease, Reporter& reporter) {
    // The lease is renewed while the files are read: a large dist/ can take longer than
    // what is left of it.
    ArchivedFiles archived = files.archive(settings.files, room, [&lease] {
        if (lease.next_wakeup().passed()) lease.on_wakeup();
    });
    if (lease.lost()) {
        // The finish step finds the lock gone and says so; the archive is of no use.
        return false;
    }
    for (const std::string& warning : archived.warnings) {
        reporter.warn("--files of " + settings.key + ": " + warning);
    }
    if (archived.over_room) {
        reporter.warn("not caching the result of " + settings.key +
                      ": its output and --files are over --cache-max-bytes " +
                      std::to_string(settings.cache_max_bytes) + " (compressed)");
        return false;
    }
    if (!archived.failure.empty()) {
        reporter.warn("not caching the result of " + settings.key +
                      ": its --files could not be archived (" + archived.failure + ")");
        return false;
    }
    reporter.debug("archived --files of " + settings.key + ": " +
                   std::to_string(archived.archive_bytes) + " bytes, " +
                   std::to_string(archived.archive.size()) + " compressed");
    result.files = settings.files;
    result.files_archive = std::move(archived.archive);
    result.files_archive_bytes = archived.archive_bytes;
    return true;
}

// Step 4's decision: what of this run may be stored for later callers, and what is handed
// to the callers that waited for it (SPEC §1: they share failures too).
// The output moves out of `report` into the record (up to --cache-max-bytes: not copied).
FinishRequest finish_request(const SingleFlightSettings& settings, const HeldLock& lock,
                             RunReport& report, SharedFiles& files, LeaseKeeper& lease,
                             Reporter& reporter) {
    FinishRequest request{
        settings.token, lock.acquired.lock.fence, std::nullopt, settings.cache_ttl,
        std::nullopt,   k_shared_outcome_ttl,     std::nullopt};
    if (!settings.use_cache) return request;
    if (report.capture_failed) {
        reporter.warn("not caching the result of " + settings.key +
                      ": its output could not be kept (" + *report.capture_failed + ")");
        return request;
    }
    if (report.output_cut) {
        reporter.warn("not caching the result of " + settings.key +
                      ": the reader of its output went away before the end, which cut the "
                      "command off (SIGPIPE)");
        return request;
    }
    // A command killed by a signal (the OOM killer, a timeout) failed this once: its
    // waiters share that, but it is never kept for later callers, --cache-failures or not.
    const bool keepable =
        report.exit_status == 0 || (settings.cache_failures && !report.killed_by_signal);
    if (report.output_over_limit) {
        // A failure that would not be kept anyway is not said to be too large.
        if (keepable) {
            reporter.warn("not caching the result of " + settings.key + ": its output is over " +
                          "--cache-max-bytes " + std::to_string(settings.cache_max_bytes));
        }
        return request;
    }
    // A run that the user stopped, or that never started, has no outcome: its waiters run
    // the command themselves. One that ran to its end although its lease looked lost is
    // stored only if the lock is still ours when the finish script runs: the script checks
    // that atomically.
    if (report.start_failure || report.forwarded_signal) return request;

    CachedResult result{report.exit_status,
                        unix_now_ms(),
                        report.duration.count(),
                        settings.me.host,
                        std::move(report.output),
                        lock.acquired.lock.fence,
                        std::move(report.compressed_output),
                        report.compressed_bytes};
    if (keepable && !settings.files.empty() &&
        !add_files(result, settings, files, record_room(settings, result), lease, reporter)) {
        return request;
    }
    std::string record = encode_cached_result(result);
    result = {};  // its output is in `record` now
    // --cache-ttl 0: coalescing only, shared with the waiters and kept for nobody.
    bool storable = settings.cache_ttl > Millis(0) && keepable;
    if (storable) {
        reporter.debug("storing " + std::to_string(record.size()) + " bytes for " + settings.key);
        request.stored_record = std::move(record);
    } else {
        request.shared_record = std::move(record);
    }
    return request;
}

// What step 4 observed when the lock was not released as this run's.
struct FailedRelease {
    std::string what;  // for the message
    // The server said the lock was no longer this run's: freed or deleted from outside (or
    // expired) while the command ran, so another run may have overlapped it, whatever our
    // clock says. Otherwise the release itself failed (no answer).
    bool lock_gone = false;
};

// Step 4 itself: nullopt when the lock was still this run's and is now released (with the
// result stored or shared as decided), else what was observed.
// `stored` becomes true when a result was stored for later callers.
std::optional<FailedRelease> finish(HeldLock& lock, const SingleFlightSettings& settings,
                                    RunReport& report, SharedFiles& files, LeaseKeeper& lease,
                                    LivePublisher* live, Reporter& reporter, bool& stored) {
    try {
        FinishRequest request = finish_request(settings, lock, report, files, lease, reporter);
        if (live) {
            // Everything published goes before the end, which the release publishes.
            live->flush(Deadline::after(settings.io_timeout));
            request.live_end =
                LiveEnd{report.exit_status,
                        !report.start_failure && !report.forwarded_signal && !report.output_cut,
                        live->published_total().value_or(k_live_total_unknown), report.output_cut};
        }
        const bool storing = request.stored_record.has_value();
        if (!lock.finish(request)) {
            return FailedRelease{"the lock was no longer this run's when lockrun released it",
                                 true};
        }
        stored = storing;
    } catch (const ResultNotStored& e) {
        // Released, and the waiters woken: the run is over, only its result is lost.
        reporter.warn(settings.key + ": " + e.what());
        return std::nullopt;
    } catch (const NotReplicated&) {
        // Stored and released, but not on enough replicas: the run ends with that error.
        throw;
    } catch (const BackendUnavailable& e) {
        return FailedRelease{std::string("releasing the lock failed: ") + e.what() +
                             " (a lock not released expires within " +
                             format_duration(settings.lease) + ")"};
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

SingleFlightOutcome lost_the_lock(const std::string& message, SingleFlightOutcome outcome) {
    outcome.kind = Kind::lost;
    return ended_by(std::make_exception_ptr(Error(exit_code::k_lock_lost, message)), outcome);
}

// Step 5: the command's status; 76 when it was stopped for losing the lock, or when it ran
// to its end and another run may have overlapped it (SPEC §3: the message says what was
// observed).
SingleFlightOutcome command_status(const RunReport& report,
                                   const std::optional<FailedRelease>& failed_release,
                                   bool backend_proves_exclusion,
                                   const SingleFlightSettings& settings, Reporter& reporter,
                                   SingleFlightOutcome outcome) {
    std::string status = "exit " + std::to_string(report.exit_status);
    if (report.stopped_for_lock_loss) {
        return lost_the_lock("lost the lock on " + settings.key + ": " + *report.lock_lost +
                                 "; stopped the command (" + status + ")",
                             outcome);
    }
    if (report.start_failure) return ended_by(start_error(*report.start_failure), outcome);
    if (!failed_release) return outcome;
    if (report.ended_in_lease && backend_proves_exclusion && !failed_release->lock_gone) {
        // No answer to the release, but the lock was ours until the command ended: nothing
        // overlapped it (a server with failover cannot say so: a promoted replica may never
        // have had the lock). A lock the server says is gone was freed from outside while
        // the command ran, whatever our clock says: 76 below.
        reporter.warn("the command of " + settings.key + " ended within its lease (" + status +
                      "), but " + failed_release->what + "; its result was not stored");
        return outcome;
    }
    // A signal we did not send: its watcher's, when we could not act (stopped, hung).
    const std::string how_it_ended =
        report.killed_by_signal
            ? "the command was ended by signal " + std::to_string(*report.killed_by_signal)
            : "the command ran to its end";
    std::string message = "lost the lock on " + settings.key + ": " +
                          (report.lock_lost ? *report.lock_lost : failed_release->what) + "; " +
                          how_it_ended + " (" + status +
                          ") while another run may have held the key; nothing was stored";
    if (settings.on_lock_lost != OnLockLost::ignore) return lost_the_lock(message, outcome);
    reporter.warn(message + " (--on-lock-lost ignore)");
    outcome.kind = Kind::lost;
    return outcome;
}

// Steps 1-2 for a caller that waits for a run which publishes its output: it prints that
// output as it comes, and ends with the run (SPEC §1). nullopt: the run cannot be followed
// and nothing was printed; the caller waits for it as one that does not follow.
std::optional<SingleFlightOutcome> follow_the_run(const LockHeld& held,
                                                  const SingleFlightSettings& settings,
                                                  Backend& backend, Reporter& reporter,
                                                  Looking& looking, SingleFlightOutcome outcome) {
    FollowResult result =
        CannotFollow{"its live output is not there (it has ended, or it does not publish it)"};
    try {
        if (std::unique_ptr<LiveFeed> feed = backend.follow_live(held)) {
            result = follow_run(settings.key, held, *feed, looking.wait_deadline, reporter);
        }
    } catch (const Error&) {
        return ended_by(std::current_exception(), outcome);
    }
    outcome.fence = held.fence;
    if (auto* cannot = std::get_if<CannotFollow>(&result)) {
        reporter.info(settings.key + ": " + cannot->why + "; waiting for its end");
        looking.not_followed_fence = held.fence;
        return std::nullopt;
    }
    if (std::holds_alternative<FollowWaitOver>(result)) {
        return give_up(Conflict{held, ""}, settings, reporter, outcome);
    }
    if (auto* broken = std::get_if<FollowBroken>(&result)) {
        if (broken->exit_code == exit_code::k_lock_lost) outcome.kind = Kind::lost;
        return ended_by(std::make_exception_ptr(Error(broken->exit_code, broken->message)),
                        outcome);
    }
    const LiveEnd& end = std::get<FollowedToEnd>(result).end;
    std::string line = settings.key + ": followed " + run_text(held) + " live to its end, exit " +
                       std::to_string(end.exit_status);
    if (!end.has_outcome) line += " (it was stopped; nothing was stored)";
    reporter.notice(line, {{"outcome", std::string("cache_hit")},
                           {"live", std::int64_t{1}},
                           {"exit_code", end.exit_status},
                           {"fence", static_cast<std::int64_t>(held.fence)},
                           {"result_host", held.holder.host}});
    outcome.kind = Kind::replayed;
    outcome.exit_status = end.exit_status;
    return outcome;
}

// Whether the result stored for the key is still the run with this fence.
bool still_stored(Backend& backend, std::uint64_t fence) {
    KeyStatus status = backend.read_status();
    if (!status.stored) return false;
    const auto* result = std::get_if<CachedResult>(&status.stored->record);
    return result != nullptr && result->fence == fence;
}

}  // namespace

SingleFlightOutcome run_single_flight(const SingleFlightSettings& s, Backend& backend,
                                      CommandRunner& runner, SharedFiles& files,
                                      Reporter& reporter) {
    if (s.max_holders > 1) {
        reporter.info(s.key + ": a semaphore of up to " + std::to_string(s.max_holders) +
                      " holders (-n): lock only, as with --no-cache: no result is stored or "
                      "shared");
    }
    if (s.shared) {
        reporter.info(s.key +
                      ": a shared hold (--shared), beside other readers: lock only, "
                      "as with --no-cache: no result is stored or shared");
    }
    // Steps 1-2: replay a result, take the lock, or give up when --wait runs out.
    Clock::time_point started = Clock::now();
    SingleFlightOutcome outcome;
    SingleFlightSettings without_lookup;  // when a result found cannot serve this caller
    const SingleFlightSettings* settings = &s;
    // One --wait for all the looks, however many results are found unusable.
    Looking looking{Deadline::after(s.wait)};
    Entry entry;
    for (;;) {
        entry = acquire_or_find_result(*settings, backend, reporter, looking);
        outcome.waited = std::chrono::duration_cast<Millis>(Clock::now() - started);
        if (auto* follow = std::get_if<FollowRun>(&entry)) {
            // Ends here, with the run followed, unless that run cannot be followed.
            if (auto ended = follow_the_run(follow->held, s, backend, reporter, looking, outcome)) {
                return std::move(*ended);
            }
            continue;
        }
        auto* found = std::get_if<ResultFound>(&entry);
        if (found == nullptr) break;
        try {
            if (files_in_place(*found, s, files, reporter)) {
                return replay(*found, s, backend, reporter, outcome);
            }
        } catch (const Error&) {
            return ended_by(std::current_exception(), outcome);
        }
        // Its --files are not what this caller needs: run the command, as --refresh does
        // (sharing still the outcome of a run it waits for, if that run's files serve).
        if (settings == &s) {
            without_lookup = s;
            without_lookup.refresh = true;
            settings = &without_lookup;
        }
    }
    if (auto* failed = std::get_if<Failed>(&entry)) return ended_by(failed->error, outcome);
    if (auto* conflict = std::get_if<Conflict>(&entry)) {
        return give_up(*conflict, s, reporter, outcome);
    }
    try {
        if (auto* down = std::get_if<Unreachable>(&entry)) {
            return run_unguarded(*down, s, runner, reporter, outcome);
        }
        // Step 3: holding the lock (taking it was the double-check), run under a kept lease.
        HeldLock lock(backend, s.token, std::get<Acquired>(entry));  // abandons unless finished
        if (s.refresh_of_fence && !still_stored(backend, *s.refresh_of_fence)) {
            reporter.info(s.key + ": its stale result was refreshed meanwhile; nothing to do");
            outcome.kind = Kind::conflict;
            return outcome;  // the lock is given back
        }
        outcome.kind = Kind::ran;
        outcome.fence = lock.acquired.lock.fence;
        // Kept until the result is stored: archiving --files after the command also takes
        // time under the lease.
        LeaseKeeper lease(backend, s.token, s.lease, s.io_timeout, lock.acquired.sent_at,
                          lock.acquired.lock.expires);
        lease.report_to(reporter, s.key);
        // SPEC §1: its waiters follow the output as it comes.
        std::unique_ptr<LivePublisher> live;
        if (follows(s, backend)) live = backend.publish_live(lock.acquired.lock.fence, s.lease);
        RunReport report = run_holding(lock, s, runner, lease, live.get(), reporter);
        outcome.ran = report.duration;
        outcome.exit_status = report.exit_status;
        outcome.output_failed = report.output_failed;
        // Step 4: store what deserves it, release and wake the waiters, in one atomic step
        // (not for a run stopped for losing its lock: it has nothing to store).
        std::optional<FailedRelease> failed_release;
        if (!report.stopped_for_lock_loss) {
            failed_release =
                finish(lock, s, report, files, lease, live.get(), reporter, outcome.stored);
        }
        // Step 5: the command's status, or 76 when the lock was lost.
        return command_status(report, failed_release, backend.lease_proves_exclusion(), s, reporter,
                              outcome);
    } catch (const Error&) {
        return ended_by(std::current_exception(), outcome);
    }
}

}  // namespace lockrun
