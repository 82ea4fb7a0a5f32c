#include "util/zstd_stream.hpp"

#define ZSTD_STATIC_LINKING_ONLY
#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

namespace lockrun {
namespace {

std::string compressed(const std::string& content) {
    ZstdCompressor compressor;
    std::string frame;
    // In reads of 64 KiB, as the capture is given them.
    for (std::size_t at = 0; at < content.size(); at += 64 * 1024) {
        compressor.add(std::string_view(content).substr(at, 64 * 1024), frame);
    }
    compressor.finish(frame);
    return frame;
}

std::string decompressed(std::string_view frame, std::string& error) {
    std::string out;
    error = zstd_decompress(frame, [&](std::string_view bytes) {
        out += bytes;
        return true;
    });
    return out;
}

TEST(ZstdStream, EveryFrameItWritesHasTheWindowAndChecksumThatReadersRequire) {
    // Readers refuse a window over 1 MiB and a frame without a checksum: what the writer
    // writes must not depend on libzstd's defaults for its level.
    for (std::size_t size : {std::size_t{1}, std::size_t{70 * 1024}, std::size_t{2 << 20}}) {
        std::string content;
        for (std::size_t i = 0; content.size() < size; ++i) content += std::to_string(i) + ",";
        content.resize(size);
        std::string frame = compressed(content);
        ZSTD_frameHeader header{};
        ASSERT_EQ(ZSTD_getFrameHeader(&header, frame.data(), frame.size()), 0u) << size;
        EXPECT_LE(header.windowSize, 1u << 20) << size;
        EXPECT_EQ(header.checksumFlag, 1u) << size;
        std::string error;
        EXPECT_TRUE(decompressed(frame, error) == content) << size;
        EXPECT_EQ(error, "") << size;
    }
}

TEST(ZstdStream, ASinkThatStopsEndsTheDecompressionWithoutAnError) {
    std::string frame = compressed(std::string(1 << 20, 'z'));
    int calls = 0;
    EXPECT_EQ(zstd_decompress(frame,
                              [&](std::string_view) {
                                  ++calls;
                                  return false;
                              }),
              "");
    EXPECT_EQ(calls, 1);
}

TEST(ZstdStream, AnEmptyOrCutFrameIsRefusedWithAReason) {
    std::string frame = compressed("some output\n");
    std::string error;
    decompressed("", error);
    EXPECT_EQ(error, "compressed output: not a zstd frame");
    decompressed(std::string_view(frame).substr(0, 5), error);
    EXPECT_EQ(error, "compressed output: damaged frame header");
    decompressed(std::string_view(frame).substr(0, frame.size() - 2), error);
    EXPECT_NE(error, "");
}

}  // namespace
}  // namespace lockrun
