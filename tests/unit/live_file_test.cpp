// The local backend's live file (backend/local/live_file.hpp): what a holder publishes, a
// follower reads in order and whole; what is no longer kept is a gap, never torn bytes.
#include "backend/local/live_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <variant>

namespace lockrun {
namespace {

using namespace std::chrono_literals;

class LiveFile : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/live_file_test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        path_ = pattern;
        dir_.reset(::open(pattern, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(dir_.valid());
    }
    void TearDown() override { std::system(("rm -rf " + path_).c_str()); }

    LiveFilePublisher start(std::uint64_t fence) {
        return LiveFilePublisher(start_live_file(dir_.get(), "k.live", fence));
    }
    std::unique_ptr<LiveFeed> follow(std::uint64_t fence) {
        return follow_live_file(dir_.get(), "k.live", fence, nullptr);
    }
    // The next event at `offset`, without waiting.
    static LiveEvent now(LiveFeed& feed, std::uint64_t offset) {
        return feed.next(offset, Deadline::after(0ms));
    }
    std::uint64_t disk_bytes() const {
        struct stat info {};
        ::stat((path_ + "/k.live").c_str(), &info);
        return static_cast<std::uint64_t>(info.st_blocks) * 512;
    }

    std::string path_;
    UniqueFd dir_;
};

TEST_F(LiveFile, AFollowerReadsEveryPieceInOrderThenTheEnd) {
    LiveFilePublisher publisher = start(7);
    std::unique_ptr<LiveFeed> feed = follow(7);
    ASSERT_NE(feed, nullptr);
    EXPECT_TRUE(std::holds_alternative<LiveNothingYet>(now(*feed, 0)));
    publisher.publish(OutputStream::stdout_stream, "out\n");
    publisher.publish(OutputStream::stderr_stream, "err\n");
    auto first = std::get<LivePiece>(now(*feed, 0));
    EXPECT_EQ(first.stream, OutputStream::stdout_stream);
    EXPECT_EQ(first.bytes, "out\n");
    auto second = std::get<LivePiece>(now(*feed, 4));
    EXPECT_EQ(second.stream, OutputStream::stderr_stream);
    EXPECT_EQ(second.bytes, "err\n");
    EXPECT_EQ(publisher.published_total(), std::optional<std::uint64_t>(8));
    UniqueFd holder(::openat(dir_.get(), "k.live", O_RDWR | O_CLOEXEC));
    append_live_end(holder.get(), LiveEnd{3, true, 8});
    auto end = std::get<LiveEnd>(now(*feed, 8));
    EXPECT_EQ(end.exit_status, 3);
    EXPECT_TRUE(end.has_outcome);
    EXPECT_FALSE(end.output_cut);
    EXPECT_EQ(end.total_bytes, 8u);
}

TEST_F(LiveFile, AnEndOfOutputCutOffIsReadAsSuch) {
    LiveFilePublisher publisher = start(7);
    std::unique_ptr<LiveFeed> feed = follow(7);
    ASSERT_NE(feed, nullptr);
    publisher.publish(OutputStream::stdout_stream, "out\n");
    UniqueFd holder(::openat(dir_.get(), "k.live", O_RDWR | O_CLOEXEC));
    LiveEnd cut{0, false, 4};
    cut.output_cut = true;
    append_live_end(holder.get(), cut);
    (void)std::get<LivePiece>(now(*feed, 0));
    auto end = std::get<LiveEnd>(now(*feed, 4));
    EXPECT_FALSE(end.has_outcome);
    EXPECT_TRUE(end.output_cut);
}

TEST_F(LiveFile, AFollowerWokenByTheHolderSeesItsPieceWithinItsWait) {
    LiveFilePublisher publisher = start(7);
    std::unique_ptr<LiveFeed> feed = follow(7);
    std::thread writer([&] {
        std::this_thread::sleep_for(50ms);
        publisher.publish(OutputStream::stdout_stream, "late\n");
    });
    LiveEvent event = feed->next(0, Deadline::after(5s));
    writer.join();
    EXPECT_EQ(std::get<LivePiece>(event).bytes, "late\n");
}

TEST_F(LiveFile, TheHolderCountsEachFrameAndStopInTheWakeWord) {
    LiveFilePublisher publisher = start(7);
    UniqueFd reader(::openat(dir_.get(), "k.live", O_RDONLY | O_CLOEXEC));
    auto count = [&] {
        std::uint32_t word = 0;
        EXPECT_EQ(::pread(reader.get(), &word, sizeof word, 32), 4);
        return word;
    };
    EXPECT_EQ(count(), 0u);
    publisher.publish(OutputStream::stdout_stream, "one\n");
    publisher.publish(OutputStream::stderr_stream, "two\n");
    EXPECT_EQ(count(), 2u);
    UniqueFd holder(::openat(dir_.get(), "k.live", O_RDWR | O_CLOEXEC));
    append_live_end(holder.get(), LiveEnd{0, true, 8});
    EXPECT_EQ(count(), 3u);
}

TEST_F(LiveFile, AWaiterOnTheWakeWordIsWokenThroughAnotherMappingOfTheFile) {
    // Two mappings of one file, as a holder's and a follower's process have: the wake-up
    // goes by the file, not by the address (a private futex would sleep the full 10 s).
    UniqueFd file = start_live_file(dir_.get(), "k.live", 7);
    UniqueFd reader(::openat(dir_.get(), "k.live", O_RDONLY | O_CLOEXEC));
    LiveWakeWord holder(file.get(), true);
    const LiveWakeWord follower(reader.get(), false);
    ASSERT_TRUE(holder.valid() && follower.valid());
    const std::uint32_t seen = follower.load();
    std::thread waker([&] {
        std::this_thread::sleep_for(50ms);
        holder.wake_all();
    });
    const auto started = Clock::now();
    while (follower.load() == seen && Clock::now() - started < 10s) follower.wait_while(seen, 10s);
    waker.join();
    EXPECT_EQ(follower.load(), seen + 1);
    EXPECT_LT(Clock::now() - started, 5s);
}

// Counts the waits run through it: a futex(2) wait that a signal could not end would
// keep a follower past Ctrl-C until its deadline.
class CountingInterrupt : public InterruptSource {
public:
    int fd() const override { return -1; }
    void throw_if_interrupted() override {}
    void interruptible(const std::function<void()>& wait) override {
        ++waits;
        wait();
    }
    int waits = 0;
};

TEST_F(LiveFile, AFollowerWaitsForTheNextFrameSoThatASignalEndsTheWait) {
    LiveFilePublisher publisher = start(7);
    CountingInterrupt interrupt;
    std::unique_ptr<LiveFeed> feed = follow_live_file(dir_.get(), "k.live", 7, &interrupt);
    ASSERT_NE(feed, nullptr);
    EXPECT_TRUE(std::holds_alternative<LiveNothingYet>(feed->next(0, Deadline::after(50ms))));
    EXPECT_GE(interrupt.waits, 1);
}

TEST_F(LiveFile, AnotherRunsFileIsNotFollowed) {
    LiveFilePublisher publisher = start(7);
    EXPECT_EQ(follow(8), nullptr);
    EXPECT_EQ(live_file_fence(dir_.get(), "k.live"), std::optional<std::uint64_t>(7));
    EXPECT_EQ(live_file_fence(dir_.get(), "none.live"), std::nullopt);
}

TEST_F(LiveFile, PastTheHeadWithoutFollowersPublishingStopsAndALateFollowerSeesAGap) {
    LiveFilePublisher publisher = start(7);
    const std::string chunk(256 * 1024, 'x');
    for (std::uint64_t sent = 0; sent <= k_live_head_bytes; sent += chunk.size()) {
        publisher.publish(OutputStream::stdout_stream, chunk);
    }
    EXPECT_FALSE(publisher.wants_bytes());
    EXPECT_EQ(publisher.published_total(), std::nullopt);
    std::unique_ptr<LiveFeed> late = follow(7);
    ASSERT_NE(late, nullptr);
    EXPECT_TRUE(std::holds_alternative<LiveGap>(now(*late, 0)));
}

TEST_F(LiveFile, TheWindowIsKeptOnDiskAndAFollowerThatLagsHoldsTheHolderBack) {
    LiveFilePublisher publisher = start(7);
    std::unique_ptr<LiveFeed> feed = follow(7);
    const std::string chunk(256 * 1024, 'y');
    std::uint64_t sent = 0;
    while (!publisher.holds_back() && sent < 4 * k_live_window_bytes) {
        publisher.publish(OutputStream::stdout_stream, chunk);
        sent += chunk.size();
    }
    // The follower has read nothing: the holder waits for it a window on.
    EXPECT_TRUE(publisher.holds_back());
    EXPECT_LE(sent, k_live_window_bytes + 2 * chunk.size());
    // It reads; the holder punches out what it has read and goes on.
    std::uint64_t read = 0;
    while (read < sent / 2) read += std::get<LivePiece>(now(*feed, read)).bytes.size();
    publisher.on_ready();
    EXPECT_FALSE(publisher.holds_back());
    for (int i = 0; i < 8; ++i) publisher.publish(OutputStream::stdout_stream, chunk);
    EXPECT_LE(disk_bytes(), k_live_window_bytes + 4 * chunk.size());
    while (read < sent + 8 * chunk.size()) {
        LiveEvent event = now(*feed, read);
        ASSERT_TRUE(std::holds_alternative<LivePiece>(event)) << read;
        read += std::get<LivePiece>(event).bytes.size();
    }
}

TEST_F(LiveFile, AFollowerThatStopsReadingIsDroppedAfterThePatienceAndSeesAGap) {
    LiveFilePublisher publisher = start(7);
    std::unique_ptr<LiveFeed> feed = follow(7);
    const std::string chunk(256 * 1024, 'z');
    publisher.publish(OutputStream::stdout_stream, chunk);
    ASSERT_EQ(std::get<LivePiece>(now(*feed, 0)).bytes.size(), chunk.size());
    while (!publisher.holds_back()) publisher.publish(OutputStream::stdout_stream, chunk);
    std::this_thread::sleep_for(k_live_patience + 50ms);
    publisher.on_ready();
    EXPECT_FALSE(publisher.holds_back());
    publisher.publish(OutputStream::stdout_stream, chunk);
    EXPECT_TRUE(std::holds_alternative<LiveGap>(now(*feed, chunk.size())));
}

TEST_F(LiveFile, EachRunMakesANewFileAndAFollowerOfTheLastOneReadsOn) {
    LiveFilePublisher first = start(7);
    first.publish(OutputStream::stdout_stream, "first run\n");
    std::unique_ptr<LiveFeed> feed = follow(7);
    LiveFilePublisher second = start(8);
    second.publish(OutputStream::stdout_stream, "second run\n");
    EXPECT_EQ(std::get<LivePiece>(now(*feed, 0)).bytes, "first run\n");
    EXPECT_EQ(follow(7), nullptr);
    EXPECT_NE(follow(8), nullptr);
}

}  // namespace
}  // namespace lockrun

namespace lockrun {
namespace {

TEST_F(LiveFile, AFollowerSeesTheRunGoOnUntilItsHolderLetsGoOrDies) {
    std::unique_ptr<LiveFeed> feed;
    {
        LiveFilePublisher publisher = start(7);
        feed = follow(7);
        ASSERT_NE(feed, nullptr);
        EXPECT_TRUE(feed->run_goes_on());
        publisher.publish(OutputStream::stdout_stream, "piece\n");
        EXPECT_TRUE(feed->run_goes_on());
    }
    // Its file closed (released, or its process gone): what it published is all there is.
    EXPECT_FALSE(feed->run_goes_on());
    EXPECT_EQ(std::get<LivePiece>(now(*feed, 0)).bytes, "piece\n");
}

}  // namespace
}  // namespace lockrun
