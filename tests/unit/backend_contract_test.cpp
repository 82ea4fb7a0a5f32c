// The Backend contract (src/core/backend.hpp), run against every backend: the local one
// in a fresh state dir, and Redis on the real server that scripts/test starts
// (LOCKRUN_TEST_REDIS_URL). One algorithm relies on these promises, so both must keep
// them alike.

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "backend/local/local_backend.hpp"
#include "backend/redis/redis_backend.hpp"
#include "core/errors.hpp"
#include "fakes/test_redis_server.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// Makes backends for one key, so that a test can play several callers.
class BackendFactory {
public:
    virtual ~BackendFactory() = default;
    virtual std::unique_ptr<Backend> make(const std::string& key,
                                          InterruptSource* interrupt = nullptr) = 0;
};

class LocalFactory : public BackendFactory {
public:
    LocalFactory() {
        dir_ = std::filesystem::temp_directory_path() / ("lockrun-contract-" + random_token());
    }
    ~LocalFactory() override { std::filesystem::remove_all(dir_); }
    std::unique_ptr<Backend> make(const std::string& key, InterruptSource* interrupt) override {
        return std::make_unique<LocalBackend>(dir_.string(), key, interrupt);
    }

private:
    std::filesystem::path dir_;
};

class RedisFactory : public BackendFactory {
public:
    std::unique_ptr<Backend> make(const std::string& key, InterruptSource* interrupt) override {
        return std::make_unique<RedisBackend>(fakes::test_redis_server(), "lockrun-test:", key,
                                              interrupt);
    }
};

// An interruption the test can fire: a pipe with a byte in it.
class FakeInterrupt : public InterruptSource {
public:
    FakeInterrupt() {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        read_ = fds[0];
        write_ = fds[1];
    }
    ~FakeInterrupt() override {
        ::close(read_);
        ::close(write_);
    }
    void fire() { ASSERT_EQ(::write(write_, "x", 1), 1); }
    int fd() const override { return read_; }
    void throw_if_interrupted() override {
        pollfd p{read_, POLLIN, 0};
        if (::poll(&p, 1, 0) == 1) throw Interrupted(2);
    }

private:
    int read_, write_;
};

AcquireRequest request_for(const std::string& token) {
    AcquireRequest request;
    request.token = token;
    request.lease = Millis(30'000);
    request.holder = {"host-a", 4242, "alice", "make report", 1'700'000'000'000};
    return request;
}

CachedResult sample_result(int exit_code, std::string stdout_bytes) {
    return {exit_code,
            1'700'000'000'000,
            12,
            "host-a",
            {{OutputStream::stdout_stream, std::move(stdout_bytes)}}};
}

std::uint64_t acquire(Backend& backend, const AcquireRequest& request) {
    Acquisition got = backend.check_and_acquire(request);
    auto* acquired = std::get_if<LockAcquired>(&got.outcome);
    if (acquired == nullptr) throw std::runtime_error("expected to acquire the lock");
    return acquired->fence;
}

FinishRequest finish_for(const std::string& token, std::uint64_t fence) {
    return {token, fence, std::nullopt, Millis(60'000), std::nullopt};
}

// Waits for a renewal's verdict, polling the backend's fd when it has one.
std::optional<bool> renewal_verdict(Backend& backend) {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto verdict = backend.take_renewal_reply()) return verdict;
        pollfd p{backend.renewal_fd(), POLLIN, 0};
        ::poll(&p, 1, 20);
    }
    return std::nullopt;
}

class BackendContract : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "local") {
            factory_ = std::make_unique<LocalFactory>();
        } else {
            factory_ = std::make_unique<RedisFactory>();
        }
        key_ = "contract:" + random_token();
    }
    std::unique_ptr<Backend> make(InterruptSource* interrupt = nullptr) {
        return factory_->make(key_, interrupt);
    }

    std::unique_ptr<BackendFactory> factory_;
    std::string key_;
};

TEST_P(BackendContract, AFreeKeyIsAcquiredAndTheFenceIncreasesWithEveryAcquisition) {
    auto backend = make();
    std::uint64_t first = acquire(*backend, request_for("t1"));
    EXPECT_GT(first, 0u);
    ASSERT_TRUE(backend->finish(finish_for("t1", first)));
    std::uint64_t second = acquire(*backend, request_for("t2"));
    EXPECT_GT(second, first);
    ASSERT_TRUE(backend->finish(finish_for("t2", second)));
}

TEST_P(BackendContract, AHeldKeyNamesItsHolderAndFence) {
    auto holder = make();
    auto other = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    Acquisition got = other->check_and_acquire(request_for("other"));
    auto* held = std::get_if<LockHeld>(&got.outcome);
    ASSERT_NE(held, nullptr);
    EXPECT_EQ(held->fence, fence);
    EXPECT_EQ(held->holder.host, "host-a");
    EXPECT_EQ(held->holder.pid, 4242);
    EXPECT_EQ(held->holder.user, "alice");
    EXPECT_EQ(held->holder.command, "make report");
    EXPECT_EQ(held->holder.started_unix_ms, 1'700'000'000'000);
    EXPECT_GT(held->lease_left, Millis(0));
    holder->finish(finish_for("holder", fence));
}

TEST_P(BackendContract, AStoredResultIsFoundInsteadOfTheLock) {
    auto backend = make();
    std::uint64_t fence = acquire(*backend, request_for("t1"));
    FinishRequest finish = finish_for("t1", fence);
    CachedResult result = sample_result(0, std::string("bytes\0with nul", 14));
    finish.stored_record = encode_cached_result(result);
    ASSERT_TRUE(backend->finish(finish));

    auto later = make();
    Acquisition got = later->check_and_acquire(request_for("t2"));
    auto* found = std::get_if<ResultFound>(&got.outcome);
    ASSERT_NE(found, nullptr);
    EXPECT_FALSE(found->shared_outcome);
    EXPECT_EQ(found->result, result);
    EXPECT_FALSE(later->read_status().holder.has_value()) << "a hit takes no lock";
}

TEST_P(BackendContract, NotReadingTheCacheTakesTheLockDespiteAStoredResult) {
    auto backend = make();
    std::uint64_t fence = acquire(*backend, request_for("t1"));
    FinishRequest finish = finish_for("t1", fence);
    finish.stored_record = encode_cached_result(sample_result(0, "old"));
    ASSERT_TRUE(backend->finish(finish));

    AcquireRequest refresh = request_for("t2");
    refresh.read_cache = false;
    std::uint64_t refreshed = acquire(*backend, refresh);
    EXPECT_GT(refreshed, fence);
    backend->finish(finish_for("t2", refreshed));
}

TEST_P(BackendContract, AStoredResultExpiresAfterItsTtl) {
    auto backend = make();
    std::uint64_t fence = acquire(*backend, request_for("t1"));
    FinishRequest finish = finish_for("t1", fence);
    finish.stored_record = encode_cached_result(sample_result(0, "short-lived"));
    finish.cache_ttl = Millis(50);
    ASSERT_TRUE(backend->finish(finish));
    std::this_thread::sleep_for(150ms);
    Acquisition got = backend->check_and_acquire(request_for("t2"));
    ASSERT_TRUE(std::holds_alternative<LockAcquired>(got.outcome));
    backend->finish(finish_for("t2", std::get<LockAcquired>(got.outcome).fence));
}

TEST_P(BackendContract, ASharedOutcomeReachesOnlyTheCallersThatWaitedForThatRun) {
    auto holder = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    FinishRequest finish = finish_for("holder", fence);
    CachedResult failure = sample_result(3, "failed\n");
    failure.fence = fence;  // as the algorithm writes it: the run's own
    finish.shared_record = encode_cached_result(failure);
    finish.shared_ttl = 10s;
    ASSERT_TRUE(holder->finish(finish));

    auto waiter = make();
    AcquireRequest waited = request_for("waiter");
    waited.waited_for_fence = fence;
    Acquisition got = waiter->check_and_acquire(waited);
    auto* found = std::get_if<ResultFound>(&got.outcome);
    ASSERT_NE(found, nullptr);
    EXPECT_TRUE(found->shared_outcome);
    EXPECT_EQ(found->result, failure);

    // A caller that came after the run (no fence, or another one) runs it again.
    auto newcomer = make();
    AcquireRequest other = request_for("newcomer");
    other.waited_for_fence = fence + 100;
    std::uint64_t again = acquire(*newcomer, other);
    newcomer->finish(finish_for("newcomer", again));
    EXPECT_FALSE(newcomer->read_status().stored.has_value()) << "a failure is not stored";
}

TEST_P(BackendContract, WaitingIsWokenByARelease) {
    auto holder = make();
    auto waiter = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    waiter->prepare_to_wait();
    ASSERT_TRUE(
        std::holds_alternative<LockHeld>(waiter->check_and_acquire(request_for("waiter")).outcome));
    std::thread release([&] {
        std::this_thread::sleep_for(100ms);
        holder->finish(finish_for("holder", fence));
    });
    auto started = std::chrono::steady_clock::now();
    waiter->wait_for_release(Deadline::after(Millis(10'000)));
    auto waited = std::chrono::steady_clock::now() - started;
    release.join();
    EXPECT_LT(waited, 5s) << "woken by the release, not by the deadline";
    std::uint64_t next = acquire(*waiter, request_for("waiter"));
    EXPECT_GT(next, fence);
    waiter->finish(finish_for("waiter", next));
}

TEST_P(BackendContract, AReleaseBetweenArmingAndWaitingIsNotMissed) {
    auto holder = make();
    auto waiter = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    waiter->prepare_to_wait();
    ASSERT_TRUE(
        std::holds_alternative<LockHeld>(waiter->check_and_acquire(request_for("waiter")).outcome));
    holder->finish(finish_for("holder", fence));
    auto started = std::chrono::steady_clock::now();
    waiter->wait_for_release(Deadline::after(Millis(5'000)));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_P(BackendContract, WaitingEndsAtItsDeadline) {
    auto holder = make();
    auto waiter = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    waiter->prepare_to_wait();
    auto started = std::chrono::steady_clock::now();
    waiter->wait_for_release(Deadline::after(Millis(150)));
    auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 140ms);
    EXPECT_LT(waited, 3s);
    holder->finish(finish_for("holder", fence));
}

TEST_P(BackendContract, ASignalEndsAWait) {
    FakeInterrupt interrupt;
    auto holder = make();
    auto waiter = make(&interrupt);
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    waiter->prepare_to_wait();
    interrupt.fire();
    EXPECT_THROW(waiter->wait_for_release(Deadline::after(Millis(10'000))), Interrupted);
    holder->finish(finish_for("holder", fence));
}

TEST_P(BackendContract, RenewingAHeldLockSucceeds) {
    auto backend = make();
    std::uint64_t fence = acquire(*backend, request_for("t1"));
    backend->send_renewal("t1", Millis(30'000), Deadline::after(Millis(2000)));
    EXPECT_EQ(renewal_verdict(*backend), std::optional<bool>(true));
    backend->finish(finish_for("t1", fence));
}

TEST_P(BackendContract, AForcedReleaseIsSeenByTheHolderAsLost) {
    auto holder = make();
    auto operator_view = make();
    std::uint64_t fence = acquire(*holder, request_for("holder"));
    EXPECT_TRUE(operator_view->force_release());
    holder->send_renewal("holder", Millis(30'000), Deadline::after(Millis(2000)));
    EXPECT_EQ(renewal_verdict(*holder), std::optional<bool>(false));
    FinishRequest finish = finish_for("holder", fence);
    finish.stored_record = encode_cached_result(sample_result(0, "too late"));
    EXPECT_FALSE(holder->finish(finish)) << "a lost lock stores nothing";
    EXPECT_FALSE(operator_view->read_status().stored.has_value());
    // The key is free for the next caller.
    auto next = make();
    std::uint64_t after = acquire(*next, request_for("next"));
    EXPECT_GT(after, fence);
    next->finish(finish_for("next", after));
}

TEST_P(BackendContract, ForceReleasingAFreeKeySaysSo) {
    auto backend = make();
    EXPECT_FALSE(backend->force_release());
}

TEST_P(BackendContract, AbandonFreesTheLock) {
    auto holder = make();
    acquire(*holder, request_for("holder"));
    holder->abandon("holder");
    auto next = make();
    std::uint64_t fence = acquire(*next, request_for("next"));
    next->finish(finish_for("next", fence));
}

TEST_P(BackendContract, StatusShowsTheHolderAndTheStoredResult) {
    auto backend = make();
    KeyStatus free_status = backend->read_status();
    EXPECT_FALSE(free_status.holder.has_value());
    EXPECT_FALSE(free_status.stored.has_value());

    std::uint64_t fence = acquire(*backend, request_for("t1"));
    auto observer = make();
    KeyStatus held_status = observer->read_status();
    ASSERT_TRUE(held_status.holder.has_value());
    EXPECT_EQ(held_status.holder->fence, fence);
    EXPECT_EQ(held_status.holder->holder.pid, 4242);

    FinishRequest finish = finish_for("t1", fence);
    CachedResult result = sample_result(0, "report\n");
    finish.stored_record = encode_cached_result(result);
    ASSERT_TRUE(backend->finish(finish));
    KeyStatus stored_status = observer->read_status();
    EXPECT_FALSE(stored_status.holder.has_value());
    ASSERT_TRUE(stored_status.stored.has_value());
    EXPECT_EQ(std::get<CachedResult>(stored_status.stored->record), result);
    EXPECT_GT(stored_status.stored->ttl_left, Millis(0));
    EXPECT_LE(stored_status.stored->ttl_left, Millis(60'000));
}

TEST_P(BackendContract, DroppingTheStoredResultMakesTheNextCallerRun) {
    auto backend = make();
    std::uint64_t fence = acquire(*backend, request_for("t1"));
    FinishRequest finish = finish_for("t1", fence);
    finish.stored_record = encode_cached_result(sample_result(0, "x"));
    ASSERT_TRUE(backend->finish(finish));
    EXPECT_TRUE(backend->drop_stored_result());
    EXPECT_FALSE(backend->drop_stored_result());
    std::uint64_t again = acquire(*backend, request_for("t2"));
    backend->finish(finish_for("t2", again));
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, BackendContract, ::testing::Values("local", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lockrun
