#include "core/lease_keeper.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "fakes/scripted_backend.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// ---- SPEC §5: valid until sent + lease - (1% of lease + 2 ms) ----

TEST(LeaseValidUntil, HundredMillisecondLease) {
    Clock::time_point sent{10s};
    EXPECT_EQ(lease_valid_until(sent, 100ms), sent + 97ms);  // 100 - (1 + 2)
}

TEST(LeaseValidUntil, ThirtySecondLease) {
    Clock::time_point sent{10s};
    EXPECT_EQ(lease_valid_until(sent, 30s), sent + 29'698ms);  // 30000 - (300 + 2)
}

TEST(LeaseValidUntil, OneHourLease) {
    Clock::time_point sent{10s};
    EXPECT_EQ(lease_valid_until(sent, 1h), sent + 3'563'998ms);  // 3600000 - (36000 + 2)
}

TEST(LeaseValidUntil, CountsFromTheSendTime) {
    Clock::time_point sent = Clock::now();
    EXPECT_EQ(lease_valid_until(sent + 5s, 30s) - lease_valid_until(sent, 30s), 5s);
}

// ---- LeaseKeeper against a scripted backend ----

using fakes::ScriptedBackend;

constexpr Millis k_lease = 300ms;
constexpr Millis k_io_timeout = 2s;
const std::string k_token = "token-0123456789abcdef";

// Sleeps in small steps until `deadline`, but never longer than `limit` in all: a test that
// waits for the keeper's next wake-up cannot hang.
void sleep_until(Deadline deadline, Millis limit = 1s) {
    const Clock::time_point give_up = Clock::now() + limit;
    while (!deadline.passed() && Clock::now() < give_up) {
        std::this_thread::sleep_for(std::min<Clock::duration>(5ms, deadline.at() - Clock::now()));
    }
}

// Drives the keeper as the command's event loop would, until it loses the lock or
// `limit` passes.
void run_until_lost(LeaseKeeper& keeper, Millis limit = 1s) {
    const Clock::time_point give_up = Clock::now() + limit;
    while (!keeper.lost() && Clock::now() < give_up) {
        sleep_until(keeper.next_wakeup(), 20ms);
        keeper.on_wakeup();
    }
}

TEST(LeaseKeeper, FirstWakeupIsAThirdOfTheLeaseAfterTheAcquire) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now();
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);
    EXPECT_EQ(keeper.next_wakeup().at(), acquired + 100ms);
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
}

TEST(LeaseKeeper, TheWatcherActsHalfwayBetweenOurValidityAndTheServersExpiry) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now();
    // 30 s: valid until 30 s - (300 ms + 2 ms); the server keeps it 30 s at least.
    LeaseKeeper keeper(backend, k_token, 30s, k_io_timeout, acquired);
    EXPECT_EQ(keeper.unattended_end(), acquired + 30s - 302ms + 151ms);
    // A lock that does not expire (local), and none at all, have no such end.
    LeaseKeeper local(backend, k_token, 30s, k_io_timeout, acquired, false);
    EXPECT_EQ(local.unattended_end(), std::nullopt);
    EXPECT_EQ(LeaseKeeper::unguarded().unattended_end(), std::nullopt);
}

TEST(LeaseKeeper, ALostLockHasNoEndForTheWatcher) {
    ScriptedBackend backend;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, Clock::now() - 1s);
    keeper.on_wakeup();
    ASSERT_TRUE(keeper.lost());
    EXPECT_EQ(keeper.unattended_end(), std::nullopt);
}

TEST(LeaseKeeper, FirstWakeupOfALongLeaseIsAThirdOfIt) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now();
    LeaseKeeper keeper(backend, k_token, 30s, k_io_timeout, acquired);
    EXPECT_EQ(keeper.next_wakeup().at(), acquired + 10s);
}

TEST(LeaseKeeper, WakeupBeforeARenewalIsDueSendsNothing) {
    ScriptedBackend backend;
    LeaseKeeper keeper(backend, k_token, 30s, k_io_timeout, Clock::now());
    keeper.on_wakeup();
    keeper.on_wakeup();
    EXPECT_EQ(backend.send_attempts, 0);
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
}

TEST(LeaseKeeper, WakeupWhenARenewalIsDueSendsExactlyOne) {
    ScriptedBackend backend;
    // The acquire was sent 150 ms ago: the renewal at lease/3 (100 ms) is due.
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);
    keeper.on_wakeup();
    ASSERT_EQ(backend.renewals.size(), 1u);
    EXPECT_EQ(backend.renewals[0].token, k_token);
    EXPECT_EQ(backend.renewals[0].lease, k_lease);
    // The send may take no longer than the lock is surely ours.
    EXPECT_EQ(backend.renewals[0].deadline.at(), lease_valid_until(acquired, k_lease));
    EXPECT_EQ(keeper.poll_fd(), ScriptedBackend::k_fd);

    // The reply has not arrived: waking again sends nothing more.
    keeper.on_wakeup();
    keeper.on_wakeup();
    EXPECT_EQ(backend.send_attempts, 1);
    EXPECT_FALSE(keeper.lost());
    // Nothing confirmed yet: the next wake-up is, at the latest, when the lease runs out.
    EXPECT_LE(keeper.next_wakeup().at(), lease_valid_until(acquired, k_lease));
}

TEST(LeaseKeeper, ConfirmedRenewalExtendsValidityFromItsSendTime) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);

    Clock::time_point before_send = Clock::now();
    keeper.on_wakeup();
    Clock::time_point after_send = Clock::now();
    ASSERT_EQ(backend.renewals.size(), 1u);

    backend.replies.push_back(true);
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
    EXPECT_EQ(backend.renewals.size(), 1u);
    // The next renewal is lease/3 after the one confirmed.
    EXPECT_GE(keeper.next_wakeup().at(), before_send + 100ms);
    EXPECT_LE(keeper.next_wakeup().at(), after_send + 100ms);

    // Past the validity of the acquire (acquired + 295 ms, about 145 ms from the start of
    // the test), the lock is still ours: the renewal confirmed it from its own send time.
    sleep_until(Deadline(lease_valid_until(acquired, k_lease)));
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    // The second renewal is bounded by the validity that the first one established.
    ASSERT_EQ(backend.renewals.size(), 2u);
    EXPECT_GE(backend.renewals[1].deadline.at(), lease_valid_until(before_send, k_lease));
    EXPECT_LE(backend.renewals[1].deadline.at(), lease_valid_until(after_send, k_lease));
}

TEST(LeaseKeeper, RenewalsContinueEveryThirdOfTheLease) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);
    const Clock::time_point give_up = Clock::now() + 1s;
    while (backend.renewals.size() < 3 && Clock::now() < give_up) {
        backend.replies.push_back(true);
        sleep_until(keeper.next_wakeup(), 20ms);
        keeper.on_wakeup();
        ASSERT_FALSE(keeper.lost()) << keeper.loss_reason();
    }
    EXPECT_EQ(backend.renewals.size(), 3u);
}

TEST(LeaseKeeper, FalseReplyLosesTheLock) {
    ScriptedBackend backend;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, Clock::now() - 150ms);
    keeper.on_wakeup();
    ASSERT_EQ(backend.renewals.size(), 1u);
    backend.replies.push_back(false);
    keeper.on_wakeup();
    ASSERT_TRUE(keeper.lost());
    EXPECT_FALSE(keeper.loss_reason().empty());
    EXPECT_EQ(keeper.loss_reason().find('\n'), std::string::npos);
    // Once lost, the keeper is done: no more wake-ups, no more renewals.
    EXPECT_TRUE(keeper.next_wakeup().is_never());
    EXPECT_EQ(keeper.poll_fd(), -1);
    keeper.on_wakeup();
    EXPECT_EQ(backend.send_attempts, 1);
}

TEST(LeaseKeeper, UnavailableOnSendIsRetriedSoon) {
    ScriptedBackend backend;
    // Lease 600 ms: the renewal is due 200 ms after the acquire, the lease lasts until
    // acquire + 592 ms, and a failed send is retried after lease/10 = 60 ms.
    Clock::time_point acquired = Clock::now() - 210ms;
    LeaseKeeper keeper(backend, k_token, 600ms, k_io_timeout, acquired);
    backend.send_failures.push_back("connection refused (test)");

    keeper.on_wakeup();
    EXPECT_EQ(backend.send_attempts, 1);
    EXPECT_TRUE(backend.renewals.empty());
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
    EXPECT_LT(keeper.next_wakeup().at(), lease_valid_until(acquired, 600ms));

    sleep_until(keeper.next_wakeup());
    keeper.on_wakeup();
    EXPECT_EQ(backend.send_attempts, 2);
    ASSERT_EQ(backend.renewals.size(), 1u);
    EXPECT_FALSE(keeper.lost());

    backend.replies.push_back(true);
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
}

TEST(LeaseKeeper, UnavailableOnReplyIsRetriedSoon) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 210ms;
    LeaseKeeper keeper(backend, k_token, 600ms, k_io_timeout, acquired);

    keeper.on_wakeup();
    ASSERT_EQ(backend.renewals.size(), 1u);
    backend.replies.push_back(ScriptedBackend::Unavailable{"connection reset (test)"});
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
    EXPECT_LT(keeper.next_wakeup().at(), lease_valid_until(acquired, 600ms));

    sleep_until(keeper.next_wakeup());
    keeper.on_wakeup();
    ASSERT_EQ(backend.renewals.size(), 2u);
    backend.replies.push_back(true);
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
}

TEST(LeaseKeeper, UnavailableOnEverySendLosesTheLockWhenValidityEnds) {
    ScriptedBackend backend;
    backend.every_send_fails = "cannot reach redis://127.0.0.1:6390 (test)";
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);

    run_until_lost(keeper);
    ASSERT_TRUE(keeper.lost());
    EXPECT_GE(Clock::now(), lease_valid_until(acquired, k_lease));
    EXPECT_NE(keeper.loss_reason().find("cannot reach redis://127.0.0.1:6390 (test)"),
              std::string::npos)
        << keeper.loss_reason();
    EXPECT_EQ(keeper.loss_reason().find('\n'), std::string::npos);
    EXPECT_GE(backend.send_attempts, 1);
    EXPECT_TRUE(backend.renewals.empty());
}

TEST(LeaseKeeper, UnavailableOnEveryReplyLosesTheLockWhenValidityEnds) {
    ScriptedBackend backend;
    backend.every_reply_fails = "connection reset by peer (test)";
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);

    run_until_lost(keeper);
    ASSERT_TRUE(keeper.lost());
    EXPECT_GE(Clock::now(), lease_valid_until(acquired, k_lease));
    EXPECT_NE(keeper.loss_reason().find("connection reset by peer (test)"), std::string::npos)
        << keeper.loss_reason();
    EXPECT_GE(backend.renewals.size(), 1u);
}

TEST(LeaseKeeper, UnansweredRenewalPastIoTimeoutIsGivenUpAndSentAgain) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 210ms;
    LeaseKeeper keeper(backend, k_token, 600ms, 50ms, acquired);

    Clock::time_point before_send = Clock::now();
    keeper.on_wakeup();
    Clock::time_point after_send = Clock::now();
    ASSERT_EQ(backend.renewals.size(), 1u);
    // Waiting for the reply for at most io_timeout.
    EXPECT_GE(keeper.next_wakeup().at(), before_send + 50ms);
    EXPECT_LE(keeper.next_wakeup().at(), after_send + 50ms);

    // No reply is ever scripted for the first renewal.
    sleep_until(keeper.next_wakeup());
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    ASSERT_EQ(backend.renewals.size(), 2u);
    EXPECT_EQ(keeper.poll_fd(), ScriptedBackend::k_fd);

    backend.replies.push_back(true);
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
    EXPECT_EQ(keeper.poll_fd(), -1);
}

TEST(LeaseKeeper, RenewalsThatAreNeverAnsweredLoseTheLockWithTheReason) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, 40ms, acquired);

    run_until_lost(keeper);
    ASSERT_TRUE(keeper.lost());
    EXPECT_GE(Clock::now(), lease_valid_until(acquired, k_lease));
    EXPECT_NE(keeper.loss_reason().find("no renewal was confirmed"), std::string::npos)
        << keeper.loss_reason();
    EXPECT_GE(backend.renewals.size(), 1u);
}

TEST(LeaseKeeper, ALateWakeupAfterTheLeaseEndedIsALoss) {
    ScriptedBackend backend;
    // The loop did not wake the keeper for longer than the lease.
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, Clock::now() - 400ms);
    keeper.on_wakeup();
    EXPECT_TRUE(keeper.lost());
    EXPECT_EQ(backend.send_attempts, 0);
}

TEST(LeaseKeeper, AConfirmationThatArrivesLateStillCountsFromItsSendTime) {
    ScriptedBackend backend;
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);
    keeper.on_wakeup();
    ASSERT_EQ(backend.renewals.size(), 1u);
    // The reply is read only after the acquire's validity ended; it confirms a renewal
    // sent well before, so the lock is ours.
    sleep_until(Deadline(lease_valid_until(acquired, k_lease)));
    backend.replies.push_back(true);
    keeper.on_wakeup();
    EXPECT_FALSE(keeper.lost());
}

TEST(LeaseKeeper, AVerdictReadyAtOnceIsTakenInTheSameWakeup) {
    ScriptedBackend backend;
    backend.answers_at_once = true;
    Clock::time_point acquired = Clock::now() - 150ms;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, acquired);
    backend.replies.push_back(true);
    Clock::time_point before_send = Clock::now();
    keeper.on_wakeup();
    Clock::time_point after_send = Clock::now();
    ASSERT_EQ(backend.renewals.size(), 1u);
    EXPECT_FALSE(keeper.lost());
    // Nothing left to poll for: the next wake-up is the next renewal, lease/3 on.
    EXPECT_EQ(keeper.poll_fd(), -1);
    EXPECT_GE(keeper.next_wakeup().at(), before_send + 100ms);
    EXPECT_LE(keeper.next_wakeup().at(), after_send + 100ms);
}

TEST(LeaseKeeper, AFalseVerdictReadyAtOnceLosesTheLockAtOnce) {
    // The local backend's answer when an operator forced the lock free.
    ScriptedBackend backend;
    backend.answers_at_once = true;
    LeaseKeeper keeper(backend, k_token, k_lease, k_io_timeout, Clock::now() - 150ms);
    backend.replies.push_back(false);
    keeper.on_wakeup();
    ASSERT_TRUE(keeper.lost());
    EXPECT_FALSE(keeper.loss_reason().empty());
    EXPECT_TRUE(keeper.next_wakeup().is_never());
}

}  // namespace
}  // namespace lockrun
