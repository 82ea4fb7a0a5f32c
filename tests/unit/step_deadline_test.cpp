// The step bound of SPEC §3 ("One --connect-timeout + --io-timeout bounds each backend
// step, retries included"): StepDeadline itself, and every step of RedisBackend against a
// server that accepts connections and never answers. The server is a socket of this test
// that listens and never accepts: the kernel completes the connections, nobody reads them.

#include "backend/redis/step_deadline.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "backend/redis/redis_backend.hpp"
#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// With these, the old code's retry alone took 2 x io = 2s; one step is 1.1s.
constexpr Millis k_connect{100};
constexpr Millis k_io{1000};
constexpr Millis k_step = k_connect + k_io;
// Generous: a loaded machine may be late, never early.
constexpr Millis k_slack{400};

class SilentServer {
public:
    SilentServer() : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(socket_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(socket_.get(), 64) != 0) {
            throw std::runtime_error("cannot listen");
        }
        socklen_t length = sizeof address;
        ::getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

private:
    UniqueFd socket_;
    std::uint16_t port_ = 0;
};

struct Failure {
    Millis took{0};
    std::string message;
};

// Runs `step` and expects it to throw BackendUnavailable.
Failure time_failure(const std::function<void()>& step) {
    auto started = std::chrono::steady_clock::now();
    try {
        step();
    } catch (const BackendUnavailable& e) {
        return {std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started),
                e.what()};
    }
    ADD_FAILURE() << "the step did not fail";
    return {};
}

class RedisStepDeadline : public ::testing::Test {
protected:
    RedisStepDeadline()
        : backend_(ConnectionSettings{parse_redis_url(server_.url()), k_connect, k_io, {}, {}},
                   "lockrun-test:", "silent", nullptr) {}

    AcquireRequest request() const {
        AcquireRequest r;
        r.token = "token-of-this-test";
        r.lease = 30s;
        r.holder = {"host-a", 4242, "alice", "make", 1'700'000'000'000};
        return r;
    }
    // The step ran out: it took one step's bound (not a retry more), and says so.
    void expect_one_step(const Failure& failure) {
        EXPECT_GE(failure.took, k_step - 50ms);
        EXPECT_LE(failure.took, k_step + k_slack);
        EXPECT_NE(failure.message.find("no reply within 1s100ms (--connect-timeout 100ms + "
                                       "--io-timeout 1s; check --io-timeout)"),
                  std::string::npos)
            << failure.message;
    }

    SilentServer server_;
    RedisBackend backend_;
};

TEST(StepDeadline, IsConnectPlusIoFromNow) {
    auto before = Clock::now();
    StepDeadline step = StepDeadline::starting_now(2s, 3s);
    EXPECT_EQ(step.total, 5s);
    EXPECT_GE(step.at.at(), before + 5s);
    EXPECT_LE(step.at.at(), Clock::now() + 5s);
    EXPECT_TRUE(step.described());
    EXPECT_EQ(step.bound(), "5s (--connect-timeout 2s + --io-timeout 3s");
}

TEST(StepDeadline, ABareDeadlineIsNotDescribed) {
    StepDeadline step = StepDeadline::bare(Deadline::never());
    EXPECT_TRUE(step.at.is_never());
    EXPECT_FALSE(step.described());
}

TEST(StepDeadline, DoesNotOverflow) {
    StepDeadline step = StepDeadline::starting_now(k_infinite - Millis(1), 2s);
    EXPECT_TRUE(step.at.is_never());
}

TEST_F(RedisStepDeadline, CheckAndAcquireWithItsRetryIsOneStep) {
    expect_one_step(time_failure([&] { backend_.check_and_acquire(request()); }));
}

TEST_F(RedisStepDeadline, ReadStatusIsOneStep) {
    expect_one_step(time_failure([&] { backend_.read_status(); }));
}

TEST_F(RedisStepDeadline, ForceReleaseIsOneStep) {
    expect_one_step(time_failure([&] { backend_.force_release(); }));
}

TEST_F(RedisStepDeadline, RenewNowIsOneStep) {
    expect_one_step(time_failure([&] { backend_.renew_now("token-of-this-test", 30s); }));
}

TEST_F(RedisStepDeadline, FinishIsOneStep) {
    FinishRequest finish{"token-of-this-test", 7, std::string("record"), 60s, std::nullopt};
    expect_one_step(time_failure([&] { backend_.finish(finish); }));
}

TEST_F(RedisStepDeadline, ListKeysIsBoundedByAStep) {
    expect_one_step(time_failure([&] { backend_.list_keys(); }));
}

TEST_F(RedisStepDeadline, DropStoredResultAndPrepareToWaitAreBoundedByTheIoTimeout) {
    // One exchange each, no retry: --io-timeout, the tighter bound, ends them.
    for (auto step : std::vector<std::function<void()>>{[&] { backend_.drop_stored_result(); },
                                                        [&] { backend_.prepare_to_wait(); }}) {
        Failure failure = time_failure(step);
        EXPECT_GE(failure.took, k_io - 50ms);
        EXPECT_LE(failure.took, k_io + k_slack);
        EXPECT_NE(failure.message.find("no reply within 1s (check --io-timeout)"),
                  std::string::npos)
            << failure.message;
    }
}

TEST_F(RedisStepDeadline, AbandonAfterAStepThatRanOutCostsNoMore) {
    expect_one_step(time_failure([&] { backend_.check_and_acquire(request()); }));
    auto started = std::chrono::steady_clock::now();
    backend_.abandon("token-of-this-test");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
}

TEST(RedisStepDeadlineConnect, APortNothingListensOnFailsAtOnce) {
    // A refused connect is no timeout: the message says what happened, not a bound.
    int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(probe);  // bound, never listened on, now closed: connections are refused
    RedisBackend backend(
        ConnectionSettings{
            parse_redis_url("redis://127.0.0.1:" + std::to_string(ntohs(address.sin_port))),
            k_connect,
            k_io,
            {},
            {}},
        "lockrun-test:", "refused", nullptr);
    Failure failure = time_failure([&] { backend.read_status(); });
    EXPECT_LT(failure.took, 500ms);
    EXPECT_NE(failure.message.find("cannot reach"), std::string::npos) << failure.message;
}

}  // namespace
}  // namespace lockrun
