// SPEC §4 signals while lockrun waits (exec/signal_watch.hpp): a wait that poll(2) cannot
// watch (a follower's futex(2)) still ends when the user signals lockrun, and the signal is
// read from the signalfd as any other; outside such a wait no handler runs.
#include "exec/signal_watch.hpp"

#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/errors.hpp"
#include "util/deadline.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// Sleeps on a private futex that nobody wakes, for `limit` at most.
void sleep_on_futex(std::chrono::milliseconds limit = 10s) {
    std::uint32_t word = 0;
    const timespec relative{static_cast<time_t>(limit.count() / 1000),
                            static_cast<long>(limit.count() % 1000) * 1'000'000};
    ::syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &relative, nullptr, 0);
}

int interrupting_signal(SignalWatch& watch) {
    try {
        watch.throw_if_interrupted();
    } catch (const Interrupted& e) {
        return e.signal_number();
    }
    return 0;
}

TEST(SignalWatch, ASignalEndsAnInterruptibleWaitAndIsReadAsAnyOther) {
    SignalWatch watch;
    const pid_t waiter = ::gettid();
    // Made after the watch: it blocks the same signals, so only the waiter can take this one.
    std::thread sender([waiter] {
        std::this_thread::sleep_for(50ms);
        ::tgkill(::getpid(), waiter, SIGTERM);
    });
    const auto started = Clock::now();
    watch.interruptible([] { sleep_on_futex(); });
    sender.join();
    EXPECT_LT(Clock::now() - started, 5s);
    EXPECT_EQ(interrupting_signal(watch), SIGTERM);
}

TEST(SignalWatch, ASignalAlreadyPendingIsNotWaitedPast) {
    SignalWatch watch;
    ::raise(SIGINT);
    bool waited = false;
    watch.interruptible([&] { waited = true; });
    EXPECT_FALSE(waited);
    EXPECT_EQ(interrupting_signal(watch), SIGINT);
}

TEST(SignalWatch, OutsideAnInterruptibleWaitASignalOnlyWaitsForTheSignalfd) {
    SignalWatch watch;
    ::raise(SIGHUP);
    const auto started = Clock::now();
    sleep_on_futex(200ms);  // blocked: the signal does not end it
    EXPECT_GE(Clock::now() - started, 150ms);
    EXPECT_EQ(interrupting_signal(watch), SIGHUP);
}

TEST(SignalWatch, AHandlerIsSetOnlyForAnInterruptibleWaitAndTakenAwayAtTheEnd) {
    auto handler_of_sigquit = [] {
        struct sigaction now {};
        ::sigaction(SIGQUIT, nullptr, &now);
        return now.sa_handler;
    };
    const auto before = handler_of_sigquit();
    {
        SignalWatch watch;
        EXPECT_EQ(handler_of_sigquit(), before);  // a run that never waits so sets none
        watch.interruptible([] {});
        EXPECT_NE(handler_of_sigquit(), before);
    }
    EXPECT_EQ(handler_of_sigquit(), before);
}

}  // namespace
}  // namespace lockrun
