// SPEC §1, one case per decision, against a scripted backend and a runner that runs nothing;
// with §3's exit codes, §4's signals and §5's validity rule where the algorithm applies them.
#include "core/single_flight.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "cli/options.hpp"
#include "config/resolve.hpp"
#include "fakes/scripted_backend.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;
using fakes::RecordingReporter;
using fakes::ScriptedBackend;
using fakes::ScriptedFiles;
using fakes::ScriptedRunner;
using Kind = SingleFlightOutcome::Kind;
using Answer = ScriptedBackend::AcquireAnswer;
using Calls = std::vector<std::string>;

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Answer acquired(std::uint64_t fence, Millis delay = 0ms) {
    return {{LockAcquired{fence, true}, std::nullopt}, std::nullopt, delay};
}
Answer held(std::uint64_t fence, Millis lease_left = 20s) {
    HolderInfo bob{"host-b", 77, "bob", "make-report", 0};
    return {{LockHeld{fence, bob, lease_left}, std::nullopt}};
}
Answer found(const CachedResult& result, bool shared_outcome = false) {
    return {{ResultFound{result, shared_outcome}, std::nullopt}};
}
Answer unreachable() {
    return {{}, "cannot reach redis://127.0.0.1:6390: timed out after 2s"};
}

const std::vector<OutputChunk> k_output{{OutputStream::stdout_stream, "out\n"},
                                        {OutputStream::stderr_stream, "err\n"},
                                        {OutputStream::stdout_stream, std::string("\0bin\n", 5)}};

// A run of host-b that ended 2m10s ago.
CachedResult result_of(int exit_code, std::uint64_t fence = 7) {
    return {exit_code, unix_now_ms() - 130'000, 1500, "host-b", k_output, fence};
}

CachedResult decoded(const std::optional<std::string>& record) {
    if (!record) throw std::logic_error("no record");
    return std::get<CachedResult>(decode_cached_result(*record));
}

// The line the failure that ended the run prints, "" for none.
std::string failure_of(const SingleFlightOutcome& outcome) {
    if (!outcome.failure) return "";
    try {
        std::rethrow_exception(outcome.failure);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

template <typename E>
bool failed_with(const SingleFlightOutcome& outcome) {
    try {
        if (outcome.failure) std::rethrow_exception(outcome.failure);
    } catch (const E&) {
        return true;
    } catch (...) {
    }
    return false;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The settings a run gets when nothing is set: the settings table's defaults.
SingleFlightSettings table_defaults() {
    Options options;
    apply_settings(resolve_settings({}, {}, [](const char*) -> const char* { return nullptr; }),
                   options);
    return options.run;
}

class SingleFlight : public ::testing::Test {
protected:
    SingleFlight() : settings(table_defaults()) {
        settings.key = "report";
        settings.command.argv = {"make-report", "2026-11-22"};
        settings.token = "token-of-this-run";
        settings.me = {"host-a", 4242, "alice", "make-report 2026-11-22", 0};
    }
    SingleFlightOutcome run(std::vector<Answer> answers) {
        backend.acquisitions.assign(answers.begin(), answers.end());
        return run_single_flight(settings, backend, runner, files, reporter);
    }
    const FinishRequest& the_finish() const {
        if (backend.finishes.size() != 1) throw std::logic_error("not one finish");
        return backend.finishes[0];
    }

    SingleFlightSettings settings;
    ScriptedBackend backend;
    ScriptedRunner runner;
    ScriptedFiles files;
    RecordingReporter reporter;
};

// ---- Step 1: a fresh result is replayed byte-exact with its exit code; nothing runs.

TEST_F(SingleFlight, AStoredResultIsReplayedWithItsExitCodeAndNothingRuns) {
    SingleFlightOutcome outcome = run({found(result_of(3))});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(outcome.failure);
    EXPECT_EQ(reporter.replayed, k_output);
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_EQ(backend.calls, Calls{"acquire"});
    EXPECT_TRUE(backend.acquire_requests[0].read_cache);
}

TEST_F(SingleFlight, AReplayIsNeverSilent) {
    run({found(result_of(0))});
    ASSERT_EQ(reporter.notices.size(), 1u);
    EXPECT_EQ(reporter.notices[0],
              "report: replayed the run of host-b (fence 7), ended 2m10s ago, exit 0; --refresh "
              "runs it again");
}

// The value of field `name` of a log line's fields; nullopt when it has none.
std::optional<LogValue> field(const LogFields& fields, std::string_view name) {
    for (const auto& [its_name, value] : fields) {
        if (its_name == name) return value;
    }
    return std::nullopt;
}

TEST_F(SingleFlight, TheReplayLineCarriesTheDecisionsFields) {
    run({found(result_of(3))});
    ASSERT_EQ(reporter.notices.size(), 1u);
    const LogFields& fields = reporter.fields.at(reporter.notices[0]);
    EXPECT_EQ(field(fields, "outcome"), LogValue(std::string("cache_hit")));
    EXPECT_EQ(field(fields, "exit_code"), LogValue(std::int64_t{3}));
    EXPECT_EQ(field(fields, "fence"), LogValue(std::int64_t{7}));
    EXPECT_EQ(field(fields, "result_host"), LogValue(std::string("host-b")));
    EXPECT_TRUE(field(fields, "waited_ms"));
    EXPECT_TRUE(field(fields, "result_age_ms"));
}

TEST_F(SingleFlight, TheConflictLineNamesTheHolderInItsFields) {
    run({held(7)});
    ASSERT_EQ(reporter.warnings.size(), 1u);
    const LogFields& fields = reporter.fields.at(reporter.warnings[0]);
    EXPECT_EQ(field(fields, "outcome"), LogValue(std::string("conflict")));
    EXPECT_EQ(field(fields, "exit_code"), LogValue(std::int64_t{75}));
    EXPECT_EQ(field(fields, "fence"), LogValue(std::int64_t{7}));
    EXPECT_EQ(field(fields, "holder_pid"), LogValue(std::int64_t{77}));
    EXPECT_EQ(field(fields, "holder_host"), LogValue(std::string("host-b")));
}

TEST_F(SingleFlight, AWaiterLooksAgainThroughAFailover) {
    backend.failover_possible = true;
    settings.wait = 30s;
    SingleFlightOutcome outcome =
        run({held(7), held(7), unreachable(), unreachable(), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_FALSE(outcome.failure);
    EXPECT_EQ(outcome.fence, 8u);
    EXPECT_EQ(std::ranges::count(backend.calls, std::string("acquire")), 5);
}

TEST_F(SingleFlight, OnOneServerAWaiterWhoseBackendGoesAwayFailsAtOnce) {
    settings.wait = 30s;
    SingleFlightOutcome outcome = run({held(7), held(7), unreachable(), acquired(8)});
    EXPECT_TRUE(failed_with<BackendUnavailable>(outcome));
    EXPECT_EQ(std::ranges::count(backend.calls, std::string("acquire")), 3);
}

TEST_F(SingleFlight, AFailoverDoesNotMakeTheFirstLookWait) {
    backend.failover_possible = true;
    settings.wait = 30s;
    SingleFlightOutcome outcome = run({unreachable(), acquired(8)});
    EXPECT_TRUE(failed_with<BackendUnavailable>(outcome));
}

TEST_F(SingleFlight, TheFenceIsContextOnceTheLockIsTaken) {
    run({acquired(9)});
    EXPECT_EQ(reporter.context.at("fence"), LogValue(std::int64_t{9}));
}

TEST_F(SingleFlight, TheReplayLineShowsTheStoredHostOnOneLine) {
    CachedResult result = result_of(0);
    result.host = "evil\nlockrun: forged line";
    run({found(result)});
    ASSERT_EQ(reporter.notices.size(), 1u);
    EXPECT_FALSE(contains(reporter.notices[0], "\n"));
    EXPECT_TRUE(contains(reporter.notices[0], "forged line")) << reporter.notices[0];
}

// ---- Step 2: take the lock; while another run holds it, wait up to --wait.

TEST_F(SingleFlight, WithoutWaitAHeldLockIsAConflictAtOnce) {
    SingleFlightOutcome outcome = run({held(7)});
    EXPECT_EQ(outcome.kind, Kind::conflict);
    EXPECT_EQ(outcome.exit_status, 75);
    EXPECT_EQ(outcome.fence, 7u);
    EXPECT_EQ(backend.calls, Calls{"acquire"});
    EXPECT_TRUE(runner.commands.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "report is held by pid 77 on host-b (user bob)"))
        << reporter.warnings[0];
    EXPECT_TRUE(contains(reporter.warnings[0], "; not waiting (see --wait)"));
}

TEST_F(SingleFlight, ConflictExitCodeZeroSkipsQuietly) {
    settings.conflict_exit_code = 0;
    SingleFlightOutcome outcome = run({held(7)});
    EXPECT_EQ(outcome.kind, Kind::conflict);
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_TRUE(reporter.warnings.empty());
    ASSERT_EQ(reporter.infos.size(), 1u);
    EXPECT_TRUE(contains(reporter.infos[0], "report is held by pid 77"));
}

TEST_F(SingleFlight, AfterWaitRunsOutTheConflictCodeIsTheOneGiven) {
    settings.wait = 50ms;
    settings.conflict_exit_code = 3;
    SingleFlightOutcome outcome = run({held(7)});
    EXPECT_EQ(outcome.kind, Kind::conflict);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_GE(outcome.waited, 50ms);
    EXPECT_TRUE(runner.commands.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "; gave up after --wait 50ms"))
        << reporter.warnings[0];
}

TEST_F(SingleFlight, AWaiterArmsTheWakeUpBeforeLookingAgain) {
    settings.wait = 10s;
    run({held(7), held(7), acquired(8)});
    // SPEC §5: subscribed before the attempt that may have to wait, so no release is missed.
    EXPECT_EQ(backend.calls, (Calls{"acquire", "prepare", "acquire", "wait", "acquire", "finish"}));
}

TEST_F(SingleFlight, AWaitIsBoundedByTheHoldersLease) {
    settings.wait = 10s;
    Clock::time_point before = Clock::now();
    run({held(7, 200ms), held(7, 200ms), acquired(8)});
    ASSERT_EQ(backend.waits.size(), 1u);
    // A holder that died is noticed when its lease runs out, not after --wait.
    EXPECT_GE(backend.waits[0].at(), before + 200ms);
    EXPECT_LT(backend.waits[0].at(), before + 2s);
}

TEST_F(SingleFlight, AWaitIsBoundedByWait) {
    settings.wait = 100ms;
    Clock::time_point before = Clock::now();
    run({held(7, 20s), held(7, 20s), acquired(8)});
    ASSERT_EQ(backend.waits.size(), 1u);
    EXPECT_LE(backend.waits[0].at(), Clock::now() + 100ms);
    EXPECT_GE(backend.waits[0].at(), before + 100ms);
}

TEST_F(SingleFlight, AResultStoredWhileWaitingIsReplayedNotRun) {
    // The double-check: every look, the one that would take the lock included, reads the
    // cache first.
    settings.wait = 10s;
    SingleFlightOutcome outcome = run({held(7), held(7), found(result_of(0))});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_TRUE(backend.finishes.empty());
    for (const AcquireRequest& request : backend.acquire_requests) {
        EXPECT_TRUE(request.read_cache);
    }
}

TEST_F(SingleFlight, TheWaitIsTimedFromTheFirstAttemptToTheLock) {
    settings.wait = 10s;
    runner.report.duration = 5s;
    SingleFlightOutcome outcome = run({held(7), held(7), acquired(8, 60ms)});
    EXPECT_GE(outcome.waited, 60ms);
    EXPECT_LT(outcome.waited, 2s);
    EXPECT_EQ(outcome.ran, 5s);
}

// ---- Callers that waited for a run share its outcome, failure included.

TEST_F(SingleFlight, AWaiterNamesTheRunItWaitsFor) {
    settings.wait = 10s;
    run({held(7), held(7), held(7), acquired(9)});
    ASSERT_EQ(backend.acquire_requests.size(), 4u);
    EXPECT_EQ(backend.acquire_requests[0].waited_for_fence, std::nullopt);
    EXPECT_EQ(backend.acquire_requests[2].waited_for_fence, 7u);
    EXPECT_EQ(backend.acquire_requests[3].waited_for_fence, 7u);
}

TEST_F(SingleFlight, AHolderWhoseFenceIsNotKnownYetIsNotTheRunWaitedFor) {
    settings.wait = 10s;
    run({held(0), held(0), held(0), held(7), acquired(9)});
    ASSERT_EQ(backend.acquire_requests.size(), 5u);
    EXPECT_EQ(backend.acquire_requests[3].waited_for_fence, std::nullopt);
    EXPECT_EQ(backend.acquire_requests[4].waited_for_fence, 7u);
}

TEST_F(SingleFlight, AWaiterReplaysTheFailureOfTheRunItWaitedFor) {
    settings.wait = 10s;
    SingleFlightOutcome outcome = run({held(7), held(7), found(result_of(3), true)});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_EQ(reporter.replayed, k_output);
    EXPECT_TRUE(runner.commands.empty());
    ASSERT_EQ(reporter.notices.size(), 1u);
    EXPECT_TRUE(contains(reporter.notices[0], "(fence 7), which this caller waited for, ended"))
        << reporter.notices[0];
}

// ---- --refresh and --no-cache

TEST_F(SingleFlight, RefreshNeverReadsTheCacheAndStoresTheNewResult) {
    settings.refresh = true;
    settings.wait = 10s;
    SingleFlightOutcome outcome = run({held(7), held(7), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    for (const AcquireRequest& request : backend.acquire_requests) {
        EXPECT_FALSE(request.read_cache);
    }
    EXPECT_EQ(runner.commands.size(), 1u);
    EXPECT_TRUE(the_finish().stored_record);
}

TEST_F(SingleFlight, NoCacheNeitherReadsNorCapturesNorStoresNorShares) {
    settings.use_cache = false;
    settings.cache_stderr = true;
    runner.report.exit_status = 3;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(backend.acquire_requests[0].read_cache);
    ASSERT_EQ(runner.policies.size(), 1u);
    EXPECT_FALSE(runner.policies[0].capture);
    EXPECT_FALSE(runner.policies[0].capture_stderr);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
}

// ---- Step 3: holding the lock, run the command while the lease is renewed.

TEST_F(SingleFlight, TheCommandIsToldItsKeyFenceAndLeaseAndKeepsTheLocksDescriptor) {
    settings.lease = 45s;
    backend.command_fd = 9;
    run({acquired(8)});
    ASSERT_EQ(runner.commands.size(), 1u);
    const CommandSpec& command = runner.commands[0];
    EXPECT_EQ(command.argv, settings.command.argv);
    using Variable = std::pair<std::string, std::string>;
    EXPECT_EQ(command.extra_environment, (std::vector<Variable>{{"LOCKRUN_KEY", "report"},
                                                                {"LOCKRUN_FENCING_TOKEN", "8"},
                                                                {"LOCKRUN_LEASE_MS", "45000"}}));
    EXPECT_EQ(command.inherited_fds, std::vector<int>{9});
}

TEST_F(SingleFlight, OutputIsCapturedAsTheCacheSettingsSay) {
    settings.cache_stderr = true;
    settings.cache_max_bytes = 1234;
    settings.on_lock_lost = OnLockLost::kill;
    settings.kill_after = 3s;
    run({acquired(8)});
    ASSERT_EQ(runner.policies.size(), 1u);
    const RunPolicy& policy = runner.policies[0];
    EXPECT_TRUE(policy.capture);
    EXPECT_TRUE(policy.capture_stderr);
    EXPECT_EQ(policy.capture_limit, 1234u);
    EXPECT_EQ(policy.on_lock_lost, OnLockLost::kill);
    EXPECT_EQ(policy.kill_after, 3s);
}

TEST_F(SingleFlight, NoCacheStderrLeavesStderrUncaptured) {
    settings.cache_stderr = false;
    run({acquired(8)});
    EXPECT_TRUE(runner.policies.at(0).capture);
    EXPECT_FALSE(runner.policies.at(0).capture_stderr);
}

TEST_F(SingleFlight, TheLeaseIsRenewedWhileTheCommandRuns) {
    settings.lease = 300ms;
    runner.during_run = [](LeaseKeeper& lease) {
        std::this_thread::sleep_until(std::min(lease.next_wakeup().at(), Clock::now() + 1s));
        lease.on_wakeup();
    };
    run({acquired(8)});
    ASSERT_EQ(backend.renewals.size(), 1u);
    EXPECT_EQ(backend.renewals[0].token, settings.token);
    EXPECT_EQ(backend.renewals[0].lease, 300ms);
}

// ---- Step 4: store what deserves it, release, wake the waiters: one step.

TEST_F(SingleFlight, ASuccessIsStoredWithTheCacheTtlAsTheLockIsReleased) {
    settings.cache_ttl = 1h;
    runner.report.output = k_output;
    runner.report.duration = 1500ms;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_EQ(outcome.fence, 8u);
    EXPECT_EQ(outcome.ran, 1500ms);
    EXPECT_EQ(backend.calls, (Calls{"acquire", "finish"}));
    const FinishRequest& finish = the_finish();
    EXPECT_EQ(finish.token, settings.token);
    EXPECT_EQ(finish.fence, 8u);
    EXPECT_EQ(finish.cache_ttl, 1h);
    EXPECT_FALSE(finish.shared_record);
    CachedResult stored = decoded(finish.stored_record);
    EXPECT_EQ(stored.exit_code, 0);
    EXPECT_EQ(stored.output, k_output);
    EXPECT_EQ(stored.host, "host-a");
    EXPECT_EQ(stored.fence, 8u);
    EXPECT_EQ(stored.duration_ms, 1500);
}

TEST_F(SingleFlight, AFailureIsSharedWithTheWaitersButNotStored) {
    runner.report.exit_status = 3;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_EQ(decoded(the_finish().shared_record).exit_code, 3);
    EXPECT_EQ(the_finish().shared_ttl, 10s);
}

TEST_F(SingleFlight, CacheFailuresStoresAFailureToo) {
    settings.cache_failures = true;
    runner.report.exit_status = 3;
    run({acquired(8)});
    EXPECT_EQ(decoded(the_finish().stored_record).exit_code, 3);
    EXPECT_FALSE(the_finish().shared_record);
}

TEST_F(SingleFlight, ACommandKilledByASignalIsSharedButNeverStored) {
    settings.cache_failures = true;
    runner.report.exit_status = 137;
    runner.report.killed_by_signal = 9;
    run({acquired(8)});
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_EQ(decoded(the_finish().shared_record).exit_code, 137);
}

TEST_F(SingleFlight, CacheTtlZeroSharesASuccessWithTheWaitersAndKeepsItForNobody) {
    settings.cache_ttl = 0ms;
    run({acquired(8)});
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_EQ(decoded(the_finish().shared_record).exit_code, 0);
}

TEST_F(SingleFlight, OutputOverCacheMaxBytesIsNotStoredAndAWarningSaysSo) {
    settings.cache_max_bytes = 4;
    runner.report.output_over_limit = true;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "over --cache-max-bytes 4"));
}

TEST_F(SingleFlight, AReplayThatStopsShortEndsWith70NotWithTheReplayedStatus) {
    // A compressed output that does not decompress again (no memory left, say; here: not a
    // frame at all): the caller must not take what was printed for the whole result.
    CachedResult result = result_of(0);
    result.output.clear();
    result.compressed_output = "not a frame";
    result.compressed_bytes = 100;
    SingleFlightOutcome outcome = run({found(result)});
    EXPECT_EQ(outcome.exit_status, 70);
    ASSERT_TRUE(outcome.failure);
    try {
        std::rethrow_exception(outcome.failure);
    } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), "the replay of ")) << e.what();
        EXPECT_TRUE(contains(e.what(), "stopped short")) << e.what();
    }
    EXPECT_TRUE(runner.commands.empty());
}

TEST_F(SingleFlight, OutputThatCouldNotBeKeptIsNotStoredNorSharedAndAWarningSaysWhy) {
    runner.report.output_over_limit = true;
    runner.report.capture_failed = "out of memory";
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "its output could not be kept (out of memory)"));
}

TEST_F(SingleFlight, AnOutputCutOffByItsReaderIsNotStoredNorSharedAndItsFollowersAreTold) {
    // `lockrun ... | head -1`: the command got SIGPIPE, yet may exit 0 (a script goes on).
    runner.report.output = k_output;
    runner.report.output_cut = true;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
    ASSERT_TRUE(the_finish().live_end.has_value());
    EXPECT_TRUE(the_finish().live_end->output_cut);
    EXPECT_FALSE(the_finish().live_end->has_outcome);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "the reader of its output went away"));
}

TEST_F(SingleFlight, AFailureOverCacheMaxBytesIsNotSaidToBeTooLargeToKeep) {
    // It would not be kept anyway (no --cache-failures).
    runner.report.exit_status = 3;
    runner.report.output_over_limit = true;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_TRUE(reporter.warnings.empty());
}

TEST_F(SingleFlight, ARunStoppedByAForwardedSignalReleasesStoresNothingAndExitsWithItsStatus) {
    runner.report.exit_status = 130;
    runner.report.forwarded_signal = SIGINT;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 130);
    EXPECT_FALSE(outcome.failure);
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
}

TEST_F(SingleFlight, AResultTheBackendWouldNotStoreIsAWarningNotAFailure) {
    backend.finish_answer = ScriptedBackend::NotStored{"OOM command not allowed"};
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_FALSE(outcome.failure);
    EXPECT_TRUE(backend.abandoned.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "OOM command not allowed"));
}

// ---- Step 5, and 76: the lock was lost while the command ran.

TEST_F(SingleFlight, ACommandStoppedForLosingItsLockEndsWith76AndNothingIsStored) {
    runner.report.exit_status = 143;
    runner.report.ended_in_lease = false;
    runner.report.stopped_for_lock_loss = true;
    runner.report.lock_lost = "no renewal was confirmed within the 30s lease";
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::lost);
    EXPECT_EQ(outcome.exit_status, 76);
    EXPECT_EQ(failure_of(outcome),
              "lost the lock on report: no renewal was confirmed within the 30s lease; stopped "
              "the command (exit 143)");
    EXPECT_TRUE(backend.finishes.empty());
    // One quick attempt frees the lock, in case it is still ours.
    EXPECT_EQ(backend.abandoned, Calls{settings.token});
}

TEST_F(SingleFlight, ALockFoundGoneAtReleaseAfterTheLeaseEndedIs76) {
    runner.report.ended_in_lease = false;
    backend.finish_answer = false;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::lost);
    EXPECT_EQ(outcome.exit_status, 76);
    EXPECT_EQ(failure_of(outcome),
              "lost the lock on report: the lock was no longer this run's when lockrun released "
              "it; the command ran to its end (exit 0) while another run may have held the key; "
              "nothing was stored");
    EXPECT_TRUE(backend.abandoned.empty());
}

TEST_F(SingleFlight, ALockFoundGoneAtReleaseIs76EvenWhenTheCommandEndedWithinItsLease) {
    // Freed from outside (release --force, a DEL, an eviction) while the command ran, and
    // found only at the release: a waiter may have run meanwhile, whatever our clock says.
    runner.report.exit_status = 3;
    backend.finish_answer = false;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::lost);
    EXPECT_EQ(outcome.exit_status, 76);
    EXPECT_TRUE(contains(failure_of(outcome), "the lock was no longer this run's"))
        << failure_of(outcome);
}

TEST_F(SingleFlight, AnUnansweredReleaseIsTheCommandsStatusWhenItEndedWithinItsLease) {
    runner.report.exit_status = 3;
    backend.finish_answer = ScriptedBackend::Unavailable{"connection reset by peer"};
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(outcome.failure);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "ended within its lease (exit 3)"));
}

TEST_F(SingleFlight, AReleaseThatFailsAfterTheLeaseEndedIs76) {
    runner.report.ended_in_lease = false;
    backend.finish_answer = ScriptedBackend::Unavailable{"connection reset by peer"};
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 76);
    EXPECT_TRUE(contains(failure_of(outcome),
                         "releasing the lock failed: connection reset by peer (a lock not "
                         "released expires within 30s)"))
        << failure_of(outcome);
}

TEST_F(SingleFlight, WithOnLockLostIgnoreALostLockIsAWarningAndTheCommandsStatus) {
    settings.on_lock_lost = OnLockLost::ignore;
    runner.report.exit_status = 3;
    runner.report.ended_in_lease = false;
    runner.report.lock_lost = "the lock was deleted or taken over by another holder";
    backend.finish_answer = false;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::lost);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(outcome.failure);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_TRUE(contains(reporter.warnings[0], "taken over by another holder; the command ran"));
    EXPECT_TRUE(contains(reporter.warnings[0], "(--on-lock-lost ignore)"));
}

TEST_F(SingleFlight, ALeaseThatLookedLostWhileTheLockWasStillOursIsStored) {
    settings.on_lock_lost = OnLockLost::ignore;
    runner.report.ended_in_lease = false;
    runner.report.lock_lost = "no renewal was confirmed within the 30s lease";
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_EQ(outcome.exit_status, 0);
    EXPECT_TRUE(the_finish().stored_record);
    EXPECT_TRUE(reporter.warnings.empty());
}

// ---- 126 / 127: the command could not be started.

TEST_F(SingleFlight, ACommandNotFoundIs127AndTheLockIsReleased) {
    runner.report.start_failure = {StartFailure::Reason::not_found,
                                   "cannot run 'make-report': command not found"};
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 127);
    EXPECT_EQ(failure_of(outcome), "cannot run 'make-report': command not found");
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
    EXPECT_TRUE(backend.abandoned.empty());
}

TEST_F(SingleFlight, ACommandThatCannotBeExecutedIs126) {
    runner.report.start_failure = {StartFailure::Reason::not_executable,
                                   "cannot run 'make-report': Permission denied"};
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 126);
    EXPECT_EQ(failure_of(outcome), "cannot run 'make-report': Permission denied");
}

// ---- Errors: nothing is left held.

TEST_F(SingleFlight, AnUnreachableBackendIs69AndNothingRuns) {
    SingleFlightOutcome outcome = run({unreachable()});
    EXPECT_EQ(outcome.exit_status, 69);
    EXPECT_TRUE(failed_with<BackendUnavailable>(outcome));
    EXPECT_TRUE(runner.commands.empty());
    // The request may have taken the lock although its answer was lost.
    EXPECT_EQ(backend.abandoned, Calls{settings.token});
}

TEST_F(SingleFlight, OnBackendErrorRunRunsTheCommandUnguardedAndUncached) {
    settings.run_unguarded_on_backend_error = true;
    runner.report.exit_status = 3;
    bool lease_kept = true;
    runner.during_run = [&](LeaseKeeper& lease) { lease_kept = !lease.next_wakeup().is_never(); };
    SingleFlightOutcome outcome = run({unreachable()});
    EXPECT_EQ(outcome.kind, Kind::ran_unguarded);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_FALSE(outcome.failure);
    EXPECT_EQ(outcome.fence, std::nullopt);
    EXPECT_FALSE(lease_kept);
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].extra_environment[1],
              (std::pair<std::string, std::string>{"LOCKRUN_FENCING_TOKEN", "0"}));
    EXPECT_FALSE(runner.policies[0].capture);
    EXPECT_TRUE(backend.finishes.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "cannot reach redis://127.0.0.1:6390: timed out after 2s; running the command "
              "without a lock (--on-backend-error run)");
}

TEST_F(SingleFlight, AnUnguardedCommandNotFoundIs127) {
    settings.run_unguarded_on_backend_error = true;
    runner.report.start_failure = {StartFailure::Reason::not_found,
                                   "cannot run 'make-report': command not found"};
    SingleFlightOutcome outcome = run({unreachable()});
    EXPECT_EQ(outcome.kind, Kind::ran_unguarded);
    EXPECT_EQ(outcome.exit_status, 127);
    EXPECT_EQ(failure_of(outcome), "cannot run 'make-report': command not found");
}

TEST_F(SingleFlight, ASignalWhileWaitingEnds128PlusNHoldingNothing) {
    settings.wait = 10s;
    backend.wait_interrupted_by = SIGTERM;
    SingleFlightOutcome outcome = run({held(7), held(7)});
    EXPECT_EQ(outcome.exit_status, 128 + SIGTERM);
    EXPECT_TRUE(failed_with<Interrupted>(outcome));
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_EQ(backend.abandoned, Calls{settings.token});
}

TEST_F(SingleFlight, AnErrorWhileTheCommandRunsAbandonsTheLock) {
    runner.during_run = [](LeaseKeeper&) { throw InternalError("poll: Bad file descriptor"); };
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.exit_status, 70);
    EXPECT_EQ(failure_of(outcome), "poll: Bad file descriptor");
    EXPECT_EQ(outcome.fence, 8u);
    EXPECT_TRUE(backend.finishes.empty());
    EXPECT_EQ(backend.abandoned, Calls{settings.token});
}

// ---- SPEC §5 validity rule at the start of a run: a lock confirmed after its lease would
// have run out (a paused server) is renewed before the command starts, and released unused
// when that renewal is not confirmed in time: a command is never started only to be shot.

TEST_F(SingleFlight, ALockConfirmedInTimeStartsTheCommandWithoutARenewal) {
    settings.lease = 10s;
    EXPECT_EQ(run({acquired(1)}).exit_status, 0);
    EXPECT_EQ(backend.calls, (Calls{"acquire", "finish"}));
    EXPECT_EQ(runner.commands.size(), 1u);
}

TEST_F(SingleFlight, ALateConfirmationIsRenewedBeforeTheCommandStarts) {
    settings.lease = 100ms;
    EXPECT_EQ(run({acquired(1, 150ms)}).exit_status, 0);
    EXPECT_EQ(backend.calls, (Calls{"acquire", "renew_now", "finish"}));
    EXPECT_EQ(runner.commands.size(), 1u);
}

TEST_F(SingleFlight, ALateConfirmationWhoseRenewalFailsNeverStartsTheCommand) {
    settings.lease = 100ms;
    backend.renew_now_confirms = false;
    SingleFlightOutcome outcome = run({acquired(1, 150ms)});
    EXPECT_EQ(outcome.kind, Kind::conflict);
    EXPECT_EQ(outcome.exit_status, 75);
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_EQ(backend.calls, (Calls{"acquire", "renew_now", "abandon"}));
    ASSERT_EQ(reporter.warnings.size(), 2u);
    EXPECT_TRUE(contains(reporter.warnings[0], "released it without running"));
    EXPECT_TRUE(contains(reporter.warnings[1], "the server confirmed the lock too late"));
}

TEST_F(SingleFlight, ALateConfirmationWithWaitLeftIsTriedAgainAndRunsOnceInTime) {
    settings.lease = 100ms;
    settings.wait = 10s;
    backend.renew_now_confirms = false;
    EXPECT_EQ(run({acquired(1, 150ms), acquired(2)}).exit_status, 0);
    EXPECT_EQ(backend.calls, (Calls{"acquire", "renew_now", "abandon", "acquire", "finish"}));
    EXPECT_EQ(runner.commands.size(), 1u);
}

}  // namespace
}  // namespace lockrun

// ---- --files (SPEC §1): archived with a kept result, extracted before a replay prints.

namespace lockrun {
namespace {

CachedResult result_with_files(int exit_code, std::vector<std::string> files = {"dist"}) {
    CachedResult result = result_of(exit_code);
    result.files = std::move(files);
    result.files_archive = "archive-frame";
    result.files_archive_bytes = 1024;
    return result;
}

TEST_F(SingleFlight, FilesAreExtractedBeforeTheOutputIsReplayed) {
    settings.files = {"dist"};
    bool replayed_before = true;
    files.while_extracting = [&] { replayed_before = !reporter.replayed.empty(); };
    SingleFlightOutcome outcome = run({found(result_with_files(0))});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    ASSERT_EQ(files.extract_calls.size(), 1u);
    EXPECT_EQ(files.extract_calls[0].files, std::vector<std::string>{"dist"});
    EXPECT_FALSE(replayed_before);
    EXPECT_EQ(reporter.replayed, k_output);
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_TRUE(reporter.warnings.empty());
}

TEST_F(SingleFlight, ACallerWithoutFilesReplaysTheOutputAndExtractsNothing) {
    SingleFlightOutcome outcome = run({found(result_with_files(0))});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_TRUE(files.extract_calls.empty());
}

TEST_F(SingleFlight, AResultWithOtherFilesIsNotReplayedTheCommandRunsAndStoresThem) {
    settings.files = {"dist", "report.xml"};
    SingleFlightOutcome outcome = run({found(result_with_files(0)), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_TRUE(files.extract_calls.empty());
    EXPECT_TRUE(reporter.replayed.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "the result of report was stored with --files dist, not --files dist report.xml; "
              "running the command");
    // The second look does not read the cache, as --refresh.
    ASSERT_EQ(backend.acquire_requests.size(), 2u);
    EXPECT_FALSE(backend.acquire_requests[1].read_cache);
    ASSERT_EQ(files.archive_calls.size(), 1u);
    EXPECT_EQ(files.archive_calls[0].first, settings.files);
    CachedResult stored = decoded(the_finish().stored_record);
    EXPECT_EQ(stored.files, settings.files);
    EXPECT_EQ(stored.files_archive, files.archived.archive);
}

TEST_F(SingleFlight, OneWaitBoundsEveryLookForAResultWithTheFiles) {
    settings.files = {"dist"};
    settings.wait = 200ms;
    // A result without the files, then a holder that never lets go: the second look waits
    // for what is left of --wait, not a --wait of its own.
    Clock::time_point started = Clock::now();
    Answer slow = found(result_of(0));
    slow.delay = 150ms;
    backend.acquisitions.assign({slow, held(9)});
    SingleFlightOutcome outcome = run_single_flight(settings, backend, runner, files, reporter);
    EXPECT_EQ(outcome.kind, Kind::conflict);
    // Each wait ends by the first --wait's end (a second --wait would end 150 ms later).
    for (const Deadline& wait : backend.waits) EXPECT_LE(wait.at(), started + 230ms);
}

TEST_F(SingleFlight, TheLeaseIsRenewedWhileTheFilesAreArchived) {
    settings.files = {"dist"};
    settings.lease = 300ms;
    files.while_archiving = [&](const std::function<void()>& keep_alive) {
        for (int i = 0; i < 40; ++i) {
            std::this_thread::sleep_for(10ms);
            keep_alive();
        }
    };
    backend.answers_at_once = true;
    backend.replies.assign(20, true);
    run({acquired(8)});
    // 400 ms of archiving under a 300 ms lease renewed every 100 ms.
    EXPECT_GE(backend.renewals.size(), 3u);
    EXPECT_TRUE(the_finish().stored_record);
}

TEST_F(SingleFlight, AFailedRunWithoutFilesIsSharedWithAWaiterThatAskedForThem) {
    settings.files = {"dist"};
    SingleFlightOutcome outcome = run({found(result_of(2), true)});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_EQ(outcome.exit_status, 2);
    EXPECT_TRUE(files.extract_calls.empty());
    EXPECT_TRUE(reporter.warnings.empty());
}

TEST_F(SingleFlight, ARefusedArchiveIsAMissWithOneWarningAndTheCommandRuns) {
    settings.files = {"dist"};
    files.extracted = {ExtractedFiles::Kind::refused,
                       "../escape: a path that leaves the directory (..)", 0};
    SingleFlightOutcome outcome = run({found(result_with_files(0)), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_TRUE(reporter.replayed.empty());
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "ignoring the stored result of report: its --files archive is refused (../escape: "
              "a path that leaves the directory (..)); nothing was extracted, running the command");
    EXPECT_EQ(runner.commands.size(), 1u);
}

TEST_F(SingleFlight, AnExtractionThisHostCannotDoEndsWith73AndReplaysNothing) {
    settings.files = {"dist"};
    files.extracted = {ExtractedFiles::Kind::failed, "dist is in the way: it is a directory", 0};
    SingleFlightOutcome outcome = run({found(result_with_files(0))});
    EXPECT_EQ(outcome.exit_status, 73);
    EXPECT_TRUE(reporter.replayed.empty());
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_NE(
        failure_of(outcome).find("cannot put the --files of report in place: dist is in the way"),
        std::string::npos);
}

TEST_F(SingleFlight, FilesAreArchivedOnlyForAResultThatIsKept) {
    settings.files = {"dist"};
    runner.report.exit_status = 1;
    run({acquired(8)});
    EXPECT_TRUE(files.archive_calls.empty());
    EXPECT_TRUE(decoded(the_finish().shared_record).files.empty());
}

TEST_F(SingleFlight, WithCacheFailuresAFailedRunsFilesAreArchived) {
    settings.files = {"dist"};
    settings.cache_failures = true;
    runner.report.exit_status = 1;
    run({acquired(8)});
    EXPECT_EQ(files.archive_calls.size(), 1u);
    EXPECT_EQ(decoded(the_finish().stored_record).files, settings.files);
}

TEST_F(SingleFlight, TheFilesGetTheRoomTheOutputLeavesUnderTheLimit) {
    settings.files = {"dist"};
    settings.cache_max_bytes = 64 * 1024;
    runner.report.output = {{OutputStream::stdout_stream, std::string(1000, 'x')}};
    run({acquired(8)});
    ASSERT_EQ(files.archive_calls.size(), 1u);
    EXPECT_EQ(files.archive_calls[0].second, 64 * 1024 + 1024 + 1024 - 1000u);
}

TEST_F(SingleFlight, FilesOverTheRoomStoreNothingAndSaySo) {
    settings.files = {"dist"};
    files.archived.over_room = true;
    run({acquired(8)});
    EXPECT_FALSE(the_finish().stored_record);
    EXPECT_FALSE(the_finish().shared_record);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_NE(reporter.warnings[0].find("its output and --files are over --cache-max-bytes"),
              std::string::npos);
}

TEST_F(SingleFlight, FilesThatCannotBeArchivedStoreNothingAndSaySo) {
    settings.files = {"dist"};
    files.archived.failure = "dist/x: Permission denied";
    run({acquired(8)});
    EXPECT_FALSE(the_finish().stored_record);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "not caching the result of report: its --files could not be archived (dist/x: "
              "Permission denied)");
}

TEST_F(SingleFlight, AMissingPathIsAWarningAndTheResultIsStoredWithoutIt) {
    settings.files = {"dist", "report.xml"};
    files.archived.warnings = {"report.xml does not exist after the run: not shared"};
    run({acquired(8)});
    EXPECT_TRUE(the_finish().stored_record);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "--files of report: report.xml does not exist after the run: not shared");
}

}  // namespace
}  // namespace lockrun

// ---- Following a run live (SPEC §1): a waiter prints the run's output as it comes.

namespace lockrun {
namespace {

// A holder that publishes its output: its waiters follow it.
Answer live_held(std::uint64_t fence) {
    Answer answer = held(fence);
    std::get<LockHeld>(answer.acquisition.outcome).live = true;
    return answer;
}
LivePiece piece(OutputStream stream, std::string bytes) {
    return {stream, std::move(bytes)};
}

TEST_F(SingleFlight, AWaiterPrintsTheRunsOutputAsItComesAndExitsWithItsStatus) {
    settings.wait = 30s;
    backend.live_events = {piece(OutputStream::stdout_stream, "first\n"),
                           piece(OutputStream::stderr_stream, "oops\n"),
                           piece(OutputStream::stdout_stream, "second\n"), LiveEnd{3, true, 18}};
    SingleFlightOutcome outcome = run({held(7), live_held(7)});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_EQ(outcome.exit_status, 3);
    EXPECT_TRUE(runner.commands.empty());
    EXPECT_TRUE(reporter.printed_live ==
                (std::vector<OutputChunk>{{OutputStream::stdout_stream, "first\n"},
                                          {OutputStream::stderr_stream, "oops\n"},
                                          {OutputStream::stdout_stream, "second\n"}}));
    EXPECT_EQ(backend.live_offsets, (std::vector<std::uint64_t>{0, 6, 11, 18}));
    ASSERT_EQ(reporter.notices.size(), 1u);
    EXPECT_TRUE(contains(reporter.notices[0], "followed the run of pid 77 on host-b"));
    EXPECT_TRUE(contains(reporter.notices[0], "(fence 7) live to its end, exit 3"));
    EXPECT_TRUE(reporter.replayed.empty());
}

TEST_F(SingleFlight, ARunThatDoesNotPublishIsWaitedForAsBefore) {
    settings.wait = 30s;
    run({held(7), held(7), found(result_of(0), true)});
    EXPECT_TRUE(backend.followed.empty());
    EXPECT_EQ(reporter.replayed, k_output);
}

TEST_F(SingleFlight, NoFollowingWithoutTheCacheOrWithFilesOrRefresh) {
    settings.wait = 30s;
    for (int i = 0; i < 3; ++i) {
        backend = ScriptedBackend{};
        SingleFlightSettings s = settings;
        if (i == 0) s.use_cache = false;
        if (i == 1) s.files = {"dist"};
        if (i == 2) s.refresh = true;
        backend.acquisitions = {held(7), live_held(7), acquired(8)};
        run_single_flight(s, backend, runner, files, reporter);
        EXPECT_TRUE(backend.followed.empty()) << i;
        EXPECT_FALSE(backend.acquire_requests.back().publishes_live) << i;
    }
}

TEST_F(SingleFlight, AFollowerArmsNoWakeUpButOneThatCannotFollowDoes) {
    settings.wait = 30s;
    backend.live_events = {piece(OutputStream::stdout_stream, "out\n"), LiveEnd{0, true, 4}};
    run({live_held(7)});
    // It learns of the run's end from the run's output: no subscription, no second look.
    EXPECT_EQ(backend.calls, (Calls{"acquire", "follow"}));

    backend = ScriptedBackend{};
    backend.can_follow = false;  // its output gone by the time it is opened
    run({live_held(7), live_held(7), found(result_of(0))});
    EXPECT_EQ(backend.calls, (Calls{"acquire", "follow", "acquire", "prepare", "acquire"}));
}

TEST_F(SingleFlight, AStartNoLongerKeptIsWaitedForWithoutPrintingTwice) {
    settings.wait = 30s;
    backend.live_events = {LiveGap{}};
    SingleFlightOutcome outcome = run({held(7), live_held(7), live_held(7), found(result_of(0))});
    EXPECT_EQ(outcome.kind, Kind::replayed);
    EXPECT_EQ(backend.followed.size(), 1u);  // not followed again
    EXPECT_TRUE(reporter.printed_live.empty());
    EXPECT_EQ(reporter.replayed, k_output);
    EXPECT_EQ(backend.acquire_requests.back().waited_for_fence, std::optional<std::uint64_t>(7));
}

TEST_F(SingleFlight, AFollowerThatFallsBehindAfterPrintingExits74) {
    settings.wait = 30s;
    backend.live_events = {piece(OutputStream::stdout_stream, "part\n"), LiveGap{}};
    SingleFlightOutcome outcome = run({held(7), live_held(7)});
    EXPECT_EQ(outcome.exit_status, 74);
    EXPECT_TRUE(contains(failure_of(outcome), "fell behind the run of pid 77 on host-b"));
    EXPECT_TRUE(contains(failure_of(outcome), "after 5 bytes of its output"));
    EXPECT_EQ(reporter.printed_live.size(), 1u);
    EXPECT_TRUE(runner.commands.empty());
}

TEST_F(SingleFlight, AnEndThatClaimsMoreThanWasReadIsAGapNotASuccess) {
    settings.wait = 30s;
    backend.live_events = {piece(OutputStream::stdout_stream, "part\n"),
                           LiveEnd{0, true, k_live_total_unknown}};
    EXPECT_EQ(run({held(7), live_held(7)}).exit_status, 74);
}

TEST_F(SingleFlight, TheFollowersOfARunThatEndsWithoutItsEndExit76) {
    settings.wait = 30s;
    backend.live_events = {piece(OutputStream::stdout_stream, "before\n")};
    backend.holder_reads = 0;  // the first look finds the key free: no end will come
    SingleFlightOutcome outcome = run({held(7), live_held(7)});
    EXPECT_EQ(outcome.kind, Kind::lost);
    EXPECT_EQ(outcome.exit_status, 76);
    EXPECT_TRUE(contains(failure_of(outcome), "ended without an outcome after 7 bytes"));
    EXPECT_TRUE(runner.commands.empty());
}

TEST_F(SingleFlight, AFollowerThatPrintedNothingOfARunThatDiedRunsTheCommand) {
    settings.wait = 30s;
    backend.holder_reads = 0;
    SingleFlightOutcome outcome = run({held(7), live_held(7), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_EQ(runner.commands.size(), 1u);
}

TEST_F(SingleFlight, AFollowerWhoseWaitRunsOutExitsWithTheConflictCodeAfterWhatItPrinted) {
    settings.wait = 300ms;
    backend.live_events = {piece(OutputStream::stdout_stream, "part\n")};
    SingleFlightOutcome outcome = run({held(7), live_held(7)});
    EXPECT_EQ(outcome.kind, Kind::conflict);
    EXPECT_EQ(outcome.exit_status, 75);
    EXPECT_EQ(reporter.printed_live.size(), 1u);
}

TEST_F(SingleFlight, AFollowerOfARunWhoseOutputWasCutOffEndsWith74AfterWhatItPrinted) {
    settings.wait = 30s;
    LiveEnd cut{0, false, 4};
    cut.output_cut = true;
    backend.live_events = {piece(OutputStream::stdout_stream, "out\n"), cut};
    SingleFlightOutcome outcome = run({held(7), live_held(7)});
    EXPECT_EQ(outcome.exit_status, 74);
    EXPECT_TRUE(contains(failure_of(outcome), "was cut off after 4 bytes")) << failure_of(outcome);
    EXPECT_TRUE(runner.commands.empty());
}

TEST_F(SingleFlight, AStoppedRunIsRunAgainByAFollowerThatPrintedNothing) {
    settings.wait = 30s;
    backend.live_events = {LiveEnd{130, false, 0}};
    SingleFlightOutcome outcome = run({held(7), live_held(7), acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
}

TEST_F(SingleFlight, TheHolderPublishesItsOutputAndItsEndGoesWithTheRelease) {
    runner.report.exit_status = 0;
    runner.report.output = k_output;
    SingleFlightOutcome outcome = run({acquired(8)});
    EXPECT_EQ(outcome.kind, Kind::ran);
    EXPECT_TRUE(backend.acquire_requests[0].publishes_live);
    EXPECT_EQ(backend.published, k_output);
    ASSERT_TRUE(the_finish().live_end.has_value());
    EXPECT_EQ(the_finish().live_end->total_bytes, 13u);
    EXPECT_EQ(the_finish().live_end->exit_status, 0);
    EXPECT_TRUE(the_finish().live_end->has_outcome);
    // Every piece is in before the end: flushed just before the finish.
    EXPECT_EQ(backend.calls, (Calls{"acquire", "finish"}));
    EXPECT_EQ(backend.flushed_after, std::optional<std::size_t>(1));
}

TEST_F(SingleFlight, AnEndAfterPublishingStoppedSaysTheTotalIsUnknown) {
    runner.report.output = k_output;
    backend.publishing_stops = true;
    run({acquired(8)});
    ASSERT_TRUE(the_finish().live_end.has_value());
    EXPECT_EQ(the_finish().live_end->total_bytes, k_live_total_unknown);
}

TEST_F(SingleFlight, ARunStoppedByASignalPublishesAnEndWithoutOutcome) {
    runner.report.exit_status = 130;
    runner.report.forwarded_signal = SIGINT;
    run({acquired(8)});
    ASSERT_TRUE(the_finish().live_end.has_value());
    EXPECT_FALSE(the_finish().live_end->has_outcome);
}

}  // namespace
}  // namespace lockrun
