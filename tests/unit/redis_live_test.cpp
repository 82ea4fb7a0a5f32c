// The Redis live stream (backend/redis/redis_live.hpp, lua_scripts.hpp k_publish_live) on
// the real redis-server that scripts/test starts (LOCKRUN_TEST_REDIS_URL): a holder whose
// lock is another run's publishes nothing; past the head with nobody following, the stream
// becomes a marker; the stream outlives a command that prints nothing for a while; a
// follower's group keeps what it has not read from being trimmed.

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "backend/redis/lua_scripts.hpp"
#include "backend/redis/redis_live.hpp"
#include "fakes/test_redis_server.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

using fakes::test_redis_server;

class RedisLive : public ::testing::Test {
protected:
    RedisLive()
        : base_("lockrun-live-test:{" + random_token() + "}:"),
          script_(lua::k_publish_live),
          admin_(RedisConnection::open(test_redis_server(), nullptr)) {
        call({"HSET", lock(), "fence", "7"});
    }
    ~RedisLive() override {
        try {
            call({"DEL", lock(), live()});
        } catch (const std::exception&) {
        }
    }
    std::string lock() const { return base_ + "lock"; }
    std::string live() const { return base_ + "live"; }
    RespValue call(const std::vector<std::string_view>& args) {
        return admin_.call(args, Deadline::after(5s));
    }
    RedisLivePublisher publisher(Millis ttl = 60s) {
        return RedisLivePublisher(RedisConnection::open(test_redis_server(), nullptr), script_,
                                  {live(), lock(), 7, ttl, 2000ms});
    }
    // Drives the publisher as the run loop would, for `how_long`.
    static void run_loop(RedisLivePublisher& p, Millis how_long) {
        Deadline end = Deadline::after(how_long);
        while (!end.passed()) {
            std::this_thread::sleep_until(std::min(p.next_wakeup().at(), end.at()));
            p.on_ready();
        }
    }
    std::int64_t entries() { return call({"XLEN", live()}).integer; }

    std::string base_;
    LuaScript script_;
    RedisConnection admin_;
};

TEST_F(RedisLive, PiecesAreEntriesNamedByTheFenceAndTheOffsetAfterThem) {
    RedisLivePublisher p = publisher();
    p.publish(OutputStream::stdout_stream, "out\n");
    p.publish(OutputStream::stderr_stream, "err\n");
    p.flush(Deadline::after(5s));
    EXPECT_EQ(p.published_total(), std::optional<std::uint64_t>(8));
    RespValue range = call({"XRANGE", live(), "-", "+"});
    ASSERT_EQ(range.elements.size(), 2u);
    EXPECT_EQ(range.elements[0].elements[0].text, "7-4");
    EXPECT_EQ(range.elements[1].elements[0].text, "7-8");
}

TEST_F(RedisLive, AHolderWhoseLockIsAnotherRunsPublishesNothing) {
    call({"HSET", lock(), "fence", "8"});
    RedisLivePublisher p = publisher();
    p.publish(OutputStream::stdout_stream, "stale\n");
    p.flush(Deadline::after(5s));
    EXPECT_FALSE(p.wants_bytes());
    EXPECT_EQ(p.published_total(), std::nullopt);
    EXPECT_EQ(entries(), 0);
}

TEST_F(RedisLive, PastTheHeadWithNobodyFollowingTheStreamBecomesAMarker) {
    RedisLivePublisher p = publisher();
    const std::string chunk(256 * 1024, 'x');
    for (std::uint64_t sent = 0; sent <= k_live_head_bytes && p.wants_bytes();
         sent += chunk.size()) {
        p.publish(OutputStream::stdout_stream, chunk);
        p.flush(Deadline::after(5s));
    }
    EXPECT_FALSE(p.wants_bytes());
    RespValue range = call({"XRANGE", live(), "-", "+"});
    ASSERT_EQ(range.elements.size(), 1u);
    const RespValue& fields = range.elements[0].elements[1];
    EXPECT_EQ(fields.elements[2].text, "p");
}

TEST_F(RedisLive, TheStreamOutlivesACommandThatPrintsNothingForAWhile) {
    RedisLivePublisher p = publisher(600ms);
    p.publish(OutputStream::stdout_stream, "before\n");
    p.flush(Deadline::after(5s));
    run_loop(p, 1500ms);
    EXPECT_GT(call({"PTTL", live()}).integer, 0);
    EXPECT_EQ(entries(), 1);
}

TEST_F(RedisLive, AFollowersGroupKeepsWhatItHasNotReadAndHoldsTheHolderBack) {
    call({"XGROUP", "CREATE", live(), "follower:test", "7-0", "MKSTREAM"});
    RedisLivePublisher p = publisher();
    const std::string chunk(256 * 1024, 'y');
    for (int i = 0; i < 48 && !p.holds_back(); ++i) {
        p.publish(OutputStream::stdout_stream, chunk);
        p.flush(Deadline::after(5s));
    }
    // Nothing read: the first piece is still there, and the holder waits.
    EXPECT_TRUE(p.holds_back());
    RespValue first = call({"XRANGE", live(), "-", "+", "COUNT", "1"});
    EXPECT_EQ(first.elements[0].elements[0].text, "7-262144");
    // The follower reads all of it: the holder goes on.
    call({"XREADGROUP", "GROUP", "follower:test", "f", "NOACK", "STREAMS", live(), ">"});
    run_loop(p, 100ms);
    EXPECT_FALSE(p.holds_back());
}

}  // namespace
}  // namespace lockrun
