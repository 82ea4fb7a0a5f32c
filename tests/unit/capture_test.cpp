#include "exec/capture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

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
    // Over the limit, the output is compressed; compressed, it is still over.
    capture.finish();
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

// Output as it would be replayed from what the capture kept: raw or decompressed.
std::vector<OutputChunk> replayed(Capture& capture) {
    capture.finish();
    CachedResult result;
    result.output = capture.chunks;
    result.compressed_output = capture.compressed;
    if (!capture.compressed.empty()) result.compressed_bytes = capture.size;
    // Through the record, as the supervisor's report reaches the store and the replay.
    auto decoded = decode_cached_result(encode_cached_result(result));
    if (auto* unreadable = std::get_if<UnreadableRecord>(&decoded)) {
        ADD_FAILURE() << "the capture made an unreadable record: " << unreadable->reason;
        return {};
    }
    std::vector<OutputChunk> out;
    std::string error = for_each_output_piece(std::get<CachedResult>(decoded),
                                              [&](OutputStream stream, std::string_view bytes) {
                                                  if (out.empty() || out.back().stream != stream)
                                                      out.push_back({stream, {}});
                                                  out.back().bytes += bytes;
                                              });
    EXPECT_EQ(error, "");
    return out;
}

std::string log_lines(std::size_t bytes, const std::string& word) {
    std::string text;
    for (int i = 0; text.size() < bytes; ++i) text += word + " line " + std::to_string(i) + "\n";
    return text.substr(0, bytes);
}

TEST(Capture, KeepsSmallOutputAsRead) {
    Capture capture = capture_up_to(16 * 1024 * 1024);
    std::string out = log_lines(k_compress_output_above, "out");
    capture.add(OutputStream::stdout_stream, out);
    capture.finish();
    EXPECT_TRUE(capture.compressed.empty());
    ASSERT_EQ(capture.chunks.size(), 1u);
    EXPECT_TRUE(capture.chunks[0].bytes == out);
}

TEST(Capture, CompressesLargeOutputAndKeepsBothStreamsInOrder) {
    Capture capture = capture_up_to(16 * 1024 * 1024);
    std::vector<OutputChunk> expected;
    for (int i = 0; i < 40; ++i) {
        OutputStream stream =
            i % 3 == 2 ? OutputStream::stderr_stream : OutputStream::stdout_stream;
        std::string bytes = log_lines(20'000 + i, i % 3 == 2 ? "err" : "out");
        capture.add(stream, bytes);
        if (!expected.empty() && expected.back().stream == stream) {
            expected.back().bytes += bytes;
        } else {
            expected.push_back({stream, bytes});
        }
    }
    std::uint64_t raw = capture.size;
    EXPECT_TRUE(replayed(capture) == expected);
    EXPECT_TRUE(capture.chunks.empty());
    EXPECT_FALSE(capture.over_limit);
    EXPECT_LT(capture.compressed.size() * 4, raw) << "log lines compress well";
}

TEST(Capture, TheLimitAppliesToTheCompressedSize) {
    // 8 MiB of log lines under a 256 KiB limit: kept, compressed.
    Capture capture = capture_up_to(256 * 1024);
    std::string block = log_lines(64 * 1024, "build");
    for (int i = 0; i < 128; ++i) capture.add(OutputStream::stdout_stream, block);
    capture.finish();
    EXPECT_FALSE(capture.over_limit);
    EXPECT_FALSE(capture.compressed.empty());
    EXPECT_TRUE(capture.chunks.empty());
    EXPECT_LE(capture.compressed.size(), 256u * 1024);
    std::string all;
    for (int i = 0; i < 128; ++i) all += block;
    ASSERT_EQ(replayed(capture).size(), 1u);
    EXPECT_TRUE(replayed(capture)[0].bytes == all);
}

std::string noise(std::size_t size) {
    std::string bytes(size, '\0');
    std::uint32_t x = 12345;
    for (char& c : bytes) {
        x = x * 1103515245 + 12345;
        c = static_cast<char>(x >> 24);
    }
    return bytes;
}

TEST(Capture, OutputThatDoesNotCompressUnderTheLimitIsDropped) {
    Capture capture = capture_up_to(100 * 1024);
    capture.add(OutputStream::stdout_stream, noise(200 * 1024));
    capture.finish();
    EXPECT_TRUE(capture.over_limit);
    EXPECT_TRUE(capture.chunks.empty());
    EXPECT_TRUE(capture.compressed.empty());
}

TEST(Capture, OutputOfExactlyTheLimitIsKeptEvenWhenCompressingGrowsIt) {
    // Random bytes come out of the compressor a little larger than they went in.
    Capture capture = capture_up_to(256 * 1024);
    std::string bytes = noise(256 * 1024);
    for (std::size_t at = 0; at < bytes.size(); at += 64 * 1024) {
        capture.add(OutputStream::stdout_stream, std::string_view(bytes).substr(at, 64 * 1024));
    }
    capture.finish();
    EXPECT_FALSE(capture.over_limit);
    EXPECT_GT(capture.compressed.size(), bytes.size());
    EXPECT_TRUE(replayed(capture)[0].bytes == bytes);
}

TEST(Capture, AReadLargerThanAPieceIsSplitAndComesBackWhole) {
    Capture capture = capture_up_to(16 * 1024 * 1024);
    std::string big = log_lines(3 * 1024 * 1024 + 17, "big");
    capture.add(OutputStream::stderr_stream, big);
    std::vector<OutputChunk> out = replayed(capture);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].stream, OutputStream::stderr_stream);
    EXPECT_TRUE(out[0].bytes == big);
}

TEST(Capture, OutputOverTheMostARecordHoldsIsNotKeptHoweverWellItCompresses) {
    Capture capture = capture_up_to(16 * 1024 * 1024);
    capture.max_output = 1024 * 1024;  // k_max_record_output (4 GiB), scaled down
    std::string zeros(256 * 1024, '\0');
    for (int i = 0; i < 4; ++i) capture.add(OutputStream::stdout_stream, zeros);
    EXPECT_FALSE(capture.over_limit);
    capture.add(OutputStream::stdout_stream, "x");
    capture.finish();
    EXPECT_TRUE(capture.over_limit);
    EXPECT_STREQ(capture.failure, "over 4 GiB, the most a stored result holds");
    EXPECT_TRUE(capture.compressed.empty());
}

TEST(Capture, OutputReadAByteAtATimeThatDoesNotCompressGetsNoSlack) {
    // Each piece's 5-byte header would make the record six times the output.
    Capture capture = capture_up_to(128 * 1024);
    std::string bytes = noise(128 * 1024);
    for (char c : bytes) capture.add(OutputStream::stderr_stream, std::string_view(&c, 1));
    capture.finish();
    EXPECT_TRUE(capture.over_limit);
    EXPECT_EQ(capture.failure, nullptr);
}

TEST(Capture, ALimitBelowTheThresholdCompressesOnceTheOutputPassesIt) {
    Capture capture = capture_up_to(1024);
    std::string out(10 * 1024, 'a');
    capture.add(OutputStream::stdout_stream, out);
    capture.finish();
    EXPECT_FALSE(capture.over_limit);
    EXPECT_FALSE(capture.compressed.empty());
    EXPECT_TRUE(replayed(capture)[0].bytes == out);
}

}  // namespace
}  // namespace lockrun
