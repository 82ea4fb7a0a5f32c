// SPEC §5 validity rule at the start of a run: a lock whose acquisition was confirmed after
// its lease would have run out (a paused server) is renewed before the command starts, and
// released unused when that renewal is not confirmed in time: a command is never started
// only to be shot at once. (The fakes here are the smallest that run_single_flight needs;
// a fuller scripted backend for the whole algorithm is future work.)
#include "core/single_flight.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// Every acquisition succeeds, `reply_delay` after it was asked for.
class SlowToConfirmBackend : public Backend {
public:
    Millis reply_delay{0};
    bool renewal_confirms = true;
    int acquisitions = 0;
    int renewals = 0;
    int abandons = 0;
    int finishes = 0;

    Acquisition check_and_acquire(const AcquireRequest&) override {
        ++acquisitions;
        std::this_thread::sleep_for(reply_delay);
        return {LockAcquired{static_cast<std::uint64_t>(acquisitions), true}, std::nullopt};
    }
    void prepare_to_wait() override {}
    void wait_for_release(Deadline) override {}
    void send_renewal(const std::string&, Millis, Deadline) override {}
    int renewal_fd() const override { return -1; }
    std::optional<bool> take_renewal_reply() override { return std::nullopt; }
    bool finish(const FinishRequest&) override {
        ++finishes;
        return true;
    }
    void abandon(const std::string&) noexcept override { ++abandons; }
    bool renew_now(const std::string&, Millis) override {
        ++renewals;
        return renewal_confirms;
    }
    KeyStatus read_status() override { return {}; }
    bool drop_stored_result() override { return false; }
    bool force_release() override { return false; }
    std::vector<ListedKey> list_keys() override { return {}; }
};

class CountingRunner : public CommandRunner {
public:
    int runs = 0;
    RunReport run(const CommandSpec&, LeaseKeeper&, const RunPolicy&) override {
        ++runs;
        RunReport report;
        report.ended_in_lease = true;
        return report;
    }
};

class SilentReporter : public Reporter {
public:
    std::vector<std::string> warnings;
    void warn(const std::string& message) override { warnings.push_back(message); }
    void notice(const std::string&) override {}
    void info(const std::string&) override {}
    void debug(const std::string&) override {}
    void replay(const std::vector<OutputChunk>&) override {}
};

SingleFlightSettings settings_with_lease(Millis lease) {
    SingleFlightSettings settings;
    settings.key = "late";
    settings.command.argv = {"true"};
    settings.lease = lease;
    settings.use_cache = false;
    settings.token = "token";
    return settings;
}

TEST(LateLockConfirmation, AConfirmationInTimeStartsTheCommandWithoutARenewal) {
    SlowToConfirmBackend backend;
    CountingRunner runner;
    SilentReporter reporter;
    RunSummary summary;
    EXPECT_EQ(run_single_flight(settings_with_lease(10s), backend, runner, reporter, summary), 0);
    EXPECT_EQ(backend.renewals, 0);
    EXPECT_EQ(runner.runs, 1);
}

TEST(LateLockConfirmation, ALateConfirmationIsRenewedBeforeTheCommandStarts) {
    SlowToConfirmBackend backend;
    backend.reply_delay = 150ms;  // past the 100ms lease
    CountingRunner runner;
    SilentReporter reporter;
    RunSummary summary;
    EXPECT_EQ(run_single_flight(settings_with_lease(100ms), backend, runner, reporter, summary), 0);
    EXPECT_EQ(backend.renewals, 1);
    EXPECT_EQ(runner.runs, 1);
    EXPECT_EQ(backend.abandons, 0);
}

TEST(LateLockConfirmation, ALateConfirmationWhoseRenewalFailsNeverStartsTheCommand) {
    SlowToConfirmBackend backend;
    backend.reply_delay = 150ms;
    backend.renewal_confirms = false;
    CountingRunner runner;
    SilentReporter reporter;
    RunSummary summary;
    SingleFlightSettings settings = settings_with_lease(100ms);
    EXPECT_EQ(run_single_flight(settings, backend, runner, reporter, summary),
              settings.conflict_exit_code);
    EXPECT_EQ(runner.runs, 0);
    EXPECT_EQ(backend.abandons, 1);
    ASSERT_FALSE(reporter.warnings.empty());
    EXPECT_NE(reporter.warnings.front().find("released it without running"), std::string::npos);
}

TEST(LateLockConfirmation, WithWaitLeftItTriesAgainAndRunsOnceInTime) {
    CountingRunner runner;
    SilentReporter reporter;
    RunSummary summary;
    SingleFlightSettings settings = settings_with_lease(100ms);
    settings.wait = 10s;
    // The second acquisition is answered at once.
    struct Quick : SlowToConfirmBackend {
        Acquisition check_and_acquire(const AcquireRequest& request) override {
            if (acquisitions == 1) reply_delay = 0ms;
            return SlowToConfirmBackend::check_and_acquire(request);
        }
    } quick;
    quick.reply_delay = 150ms;
    quick.renewal_confirms = false;
    EXPECT_EQ(run_single_flight(settings, quick, runner, reporter, summary), 0);
    EXPECT_EQ(quick.acquisitions, 2);
    EXPECT_EQ(quick.abandons, 1);
    EXPECT_EQ(runner.runs, 1);
}

}  // namespace
}  // namespace lockrun
