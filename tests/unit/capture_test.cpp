#include "exec/capture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

Capture capture_up_to(std::uint64_t limit) {
    Capture capture;
    capture.enabled = true;
    capture.limit = limit;
    return capture;
}

std::string kept(const Capture& capture, OutputStream stream) {
    std::string bytes;
    for (const OutputChunk& chunk : capture.chunks) {
        if (chunk.stream == stream) bytes += chunk.bytes;
    }
    return bytes;
}

TEST(Capture, KeepsBothStreamsInTheOrderRead) {
    Capture capture = capture_up_to(100);
    capture.add(OutputStream::stdout_stream, "a");
    capture.add(OutputStream::stdout_stream, "b");
    capture.add(OutputStream::stderr_stream, "E");
    capture.add(OutputStream::stdout_stream, "c");
    ASSERT_EQ(capture.chunks.size(), 3u);
    EXPECT_EQ(capture.chunks[0], (OutputChunk{OutputStream::stdout_stream, "ab"}));
    EXPECT_EQ(capture.chunks[1], (OutputChunk{OutputStream::stderr_stream, "E"}));
    EXPECT_EQ(capture.chunks[2], (OutputChunk{OutputStream::stdout_stream, "c"}));
    EXPECT_EQ(capture.size, 4u);
    EXPECT_FALSE(capture.over_limit);
}

TEST(Capture, KeepsOutputOfExactlyTheLimit) {
    Capture capture = capture_up_to(3);
    capture.add(OutputStream::stdout_stream, "abc");
    EXPECT_FALSE(capture.over_limit);
    EXPECT_EQ(kept(capture, OutputStream::stdout_stream), "abc");
}

TEST(Capture, DropsEverythingOnceOverTheLimitAndKeepsNothingAfter) {
    Capture capture = capture_up_to(3);
    capture.add(OutputStream::stdout_stream, "abc");
    capture.add(OutputStream::stderr_stream, "d");
    EXPECT_TRUE(capture.over_limit);
    EXPECT_TRUE(capture.chunks.empty());
    EXPECT_FALSE(capture.wants_bytes());
    capture.add(OutputStream::stdout_stream, "e");
    EXPECT_TRUE(capture.chunks.empty());
}

TEST(Capture, DisabledKeepsNothing) {
    Capture capture;
    EXPECT_FALSE(capture.wants_bytes());
    capture.add(OutputStream::stdout_stream, "abc");
    EXPECT_TRUE(capture.chunks.empty());
}

TEST(Capture, NeverGrowsABlockPastOneBlockSoKeepingMoreNeverCopiesWhatIsKept) {
    // 5.5 blocks in reads of 64 KiB, as the relay reads them: every block but the last is
    // full, no block's memory is larger than a block, and the bytes come back in order.
    Capture capture = capture_up_to(16 * k_capture_block);
    std::string expected;
    std::uint64_t total = k_capture_block * 11 / 2;
    for (std::uint64_t i = 0; expected.size() < total; ++i) {
        std::string read(64 * 1024, static_cast<char>('a' + i % 26));
        capture.add(OutputStream::stdout_stream, read);
        expected += read;
    }
    ASSERT_EQ(capture.chunks.size(), 6u);
    for (std::size_t i = 0; i < capture.chunks.size(); ++i) {
        EXPECT_LE(capture.chunks[i].bytes.capacity(), k_capture_block) << "block " << i;
        if (i + 1 < capture.chunks.size()) {
            EXPECT_EQ(capture.chunks[i].bytes.size(), k_capture_block) << "block " << i;
        }
    }
    EXPECT_EQ(kept(capture, OutputStream::stdout_stream), expected);
}

TEST(Capture, SplitsOneReadLargerThanABlock) {
    Capture capture = capture_up_to(4 * k_capture_block);
    std::string read(k_capture_block + 10, 'x');
    capture.add(OutputStream::stderr_stream, read);
    ASSERT_EQ(capture.chunks.size(), 2u);
    EXPECT_EQ(capture.chunks[0].bytes.size(), k_capture_block);
    EXPECT_EQ(capture.chunks[1].bytes.size(), 10u);
    EXPECT_EQ(capture.chunks[1].stream, OutputStream::stderr_stream);
}

}  // namespace
}  // namespace lockrun
