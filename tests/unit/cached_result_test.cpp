#include "core/cached_result.hpp"

#include "util/zstd_stream.hpp"

#include <zstd.h>

#include <memory>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <variant>
#include <vector>

namespace lockrun {
namespace {

// Layout of a version-4 record (see cached_result.cpp): "LKRN", version u8, exit code i32,
// created i64, duration i64, host (u64 length + bytes), fence u64, output kind u8; kind 0
// (as read): chunk count u32, then per chunk a stream tag u8 and the bytes (u64 length +
// bytes); kind 1 (compressed): the output's size u64, then the zstd frame (u64 length +
// bytes); then --files: path count u32, each path (u64 length + bytes), and with paths the
// archive's size u64 and its zstd frame (u64 length + bytes). All integers little-endian.
// Version 3 is version 4 without the files, version 2 version 3 without the kind byte (its
// output always as read), version 1 (lockrun 0.1) version 2 without the fence.
constexpr std::size_t k_version_offset = 4;
constexpr std::size_t k_exit_code_offset = 5;
constexpr std::size_t k_host_length_offset = 4 + 1 + 4 + 8 + 8;

std::size_t kind_offset(const CachedResult& result) {
    return k_host_length_offset + 8 + result.host.size() + 8;
}

std::size_t first_chunk_offset(const CachedResult& result) {
    return kind_offset(result) + 1 + 4;
}

void overwrite_u64(std::string& record, std::size_t offset, std::uint64_t value) {
    for (std::size_t i = 0; i < 8; ++i) {
        record[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

void overwrite_i32(std::string& record, std::size_t offset, std::int32_t value) {
    auto bits = static_cast<std::uint32_t>(value);
    for (std::size_t i = 0; i < 4; ++i) {
        record[offset + i] = static_cast<char>((bits >> (8 * i)) & 0xff);
    }
}

CachedResult sample_result() {
    CachedResult result;
    result.exit_code = 3;
    result.created_unix_ms = 1'763'800'000'123;
    result.duration_ms = 4'567;
    result.host = "build-7.example";
    result.fence = 1'763'800'000'456;
    result.output = {
        {OutputStream::stdout_stream, "first line\n"},
        {OutputStream::stderr_stream, "warning: something\n"},
        {OutputStream::stdout_stream, std::string("bin\0ary\n", 8)},
        {OutputStream::stdout_stream, ""},
        {OutputStream::stderr_stream, "done\n"},
    };
    return result;
}

CachedResult round_trip(const CachedResult& result) {
    auto decoded = decode_cached_result(encode_cached_result(result));
    if (auto* unreadable = std::get_if<UnreadableRecord>(&decoded)) {
        ADD_FAILURE() << "a record we wrote is unreadable: " << unreadable->reason;
        return {};
    }
    return std::get<CachedResult>(decoded);
}

// The reason, or a failure when the record decoded.
std::string unreadable_reason(std::string_view record) {
    auto decoded = decode_cached_result(record);
    if (auto* unreadable = std::get_if<UnreadableRecord>(&decoded)) return unreadable->reason;
    ADD_FAILURE() << "a damaged record decoded as a result";
    return {};
}

TEST(CachedResultRoundTrip, KeepsEveryField) {
    CachedResult result = sample_result();
    EXPECT_EQ(round_trip(result), result);
}

TEST(CachedResultRoundTrip, KeepsAnEmptyResult) {
    CachedResult empty;
    CachedResult decoded = round_trip(empty);
    EXPECT_EQ(decoded, empty);
    EXPECT_TRUE(decoded.output.empty());
    EXPECT_EQ(decoded.host, "");
}

TEST(CachedResultRoundTrip, KeepsAnEmptyChunk) {
    CachedResult result;
    result.output = {{OutputStream::stdout_stream, ""}};
    EXPECT_EQ(round_trip(result), result);
}

TEST(CachedResultRoundTrip, KeepsEveryByteValueIncludingNul) {
    std::string all_bytes;
    for (int repeat = 0; repeat < 3; ++repeat) {
        for (int byte = 0; byte < 256; ++byte) all_bytes.push_back(static_cast<char>(byte));
    }
    all_bytes += std::string(5, '\0');
    CachedResult result;
    result.output = {{OutputStream::stdout_stream, all_bytes},
                     {OutputStream::stderr_stream, std::string("\0\xff\0", 3)}};
    CachedResult decoded = round_trip(result);
    ASSERT_EQ(decoded.output.size(), 2u);
    EXPECT_EQ(decoded.output[0].bytes, all_bytes);
    EXPECT_EQ(decoded.output[0].bytes.size(), 3u * 256u + 5u);
    EXPECT_EQ(decoded.output[1].bytes, std::string("\0\xff\0", 3));
}

TEST(CachedResultRoundTrip, KeepsTheOrderOfInterleavedStdoutAndStderr) {
    CachedResult result;
    for (int i = 0; i < 50; ++i) {
        OutputStream stream =
            i % 3 == 0 ? OutputStream::stderr_stream : OutputStream::stdout_stream;
        result.output.push_back({stream, "chunk " + std::to_string(i) + "\n"});
    }
    CachedResult decoded = round_trip(result);
    ASSERT_EQ(decoded.output.size(), 50u);
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(decoded.output[i].stream,
                  i % 3 == 0 ? OutputStream::stderr_stream : OutputStream::stdout_stream);
        EXPECT_EQ(decoded.output[i].bytes, "chunk " + std::to_string(i) + "\n");
    }
}

TEST(CachedResultRoundTrip, KeepsExitCodesZeroOneAnd255) {
    for (int exit_code : {0, 1, 255}) {
        CachedResult result = sample_result();
        result.exit_code = exit_code;
        EXPECT_EQ(round_trip(result).exit_code, exit_code);
    }
}

TEST(CachedResultRoundTrip, KeepsAOneMebibyteChunk) {
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 256);
    CachedResult result;
    result.output = {{OutputStream::stdout_stream, big}, {OutputStream::stdout_stream, "tail"}};
    CachedResult decoded = round_trip(result);
    ASSERT_EQ(decoded.output.size(), 2u);
    EXPECT_EQ(decoded.output[0].bytes.size(), big.size());
    EXPECT_TRUE(decoded.output[0].bytes == big);
    EXPECT_EQ(decoded.output[1].bytes, "tail");
}

TEST(CachedResultRoundTrip, KeepsAUnicodeHost) {
    CachedResult result = sample_result();
    result.host = "h\xC3\xB6st-\xE6\x97\xA5\xE6\x9C\xAC.example";  // höst-日本.example
    EXPECT_EQ(round_trip(result).host, result.host);
}

TEST(CachedResultRoundTrip, KeepsNegativeAndLargeTimes) {
    CachedResult result = sample_result();
    result.created_unix_ms = -1;
    result.duration_ms = INT64_MAX;
    CachedResult decoded = round_trip(result);
    EXPECT_EQ(decoded.created_unix_ms, -1);
    EXPECT_EQ(decoded.duration_ms, INT64_MAX);
}

TEST(CachedResultEncode, StartsWithTheMagicAndTheVersion) {
    std::string record = encode_cached_result(sample_result());
    ASSERT_GE(record.size(), 5u);
    EXPECT_EQ(record.substr(0, 4), "LKRN");
    EXPECT_EQ(static_cast<std::uint8_t>(record[k_version_offset]), k_cached_result_version);
}

TEST(CachedResultDecode, EveryTruncationIsUnreadable) {
    std::string record = encode_cached_result(sample_result());
    for (std::size_t length = 0; length < record.size(); ++length) {
        auto decoded = decode_cached_result(std::string_view(record).substr(0, length));
        EXPECT_TRUE(std::holds_alternative<UnreadableRecord>(decoded))
            << "a record cut to " << length << " of " << record.size() << " bytes decoded";
    }
}

TEST(CachedResultDecode, EveryTruncationOfAnEmptyResultIsUnreadable) {
    std::string record = encode_cached_result(CachedResult{});
    for (std::size_t length = 0; length < record.size(); ++length) {
        auto decoded = decode_cached_result(std::string_view(record).substr(0, length));
        EXPECT_TRUE(std::holds_alternative<UnreadableRecord>(decoded)) << length;
    }
}

TEST(CachedResultDecode, TruncationAfterTheVersionSaysTruncated) {
    std::string record = encode_cached_result(sample_result());
    EXPECT_EQ(unreadable_reason(record.substr(0, record.size() - 1)), "truncated");
    EXPECT_EQ(unreadable_reason(record.substr(0, k_version_offset + 1)), "truncated");
    EXPECT_EQ(unreadable_reason(record.substr(0, k_version_offset)), "truncated");
}

TEST(CachedResultDecode, RejectsAnEmptyRecord) {
    EXPECT_EQ(unreadable_reason(""), "not a lockrun record");
}

TEST(CachedResultDecode, RejectsTheWrongMagic) {
    std::string record = encode_cached_result(sample_result());
    record[3] = 'X';
    EXPECT_EQ(unreadable_reason(record), "not a lockrun record");
    EXPECT_EQ(unreadable_reason("plain text output\n"), "not a lockrun record");
}

TEST(CachedResultDecode, SaysARecordOfAFutureFormatIsUnreadableAndWhy) {
    std::string record = encode_cached_result(sample_result());
    record[k_version_offset] = 5;
    std::string reason = unreadable_reason(record);
    EXPECT_NE(reason.find("format"), std::string::npos) << reason;
    EXPECT_NE(reason.find('5'), std::string::npos) << reason;
    EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
}

TEST(CachedResultDecode, ReadsAVersionOneRecordWithoutAFence) {
    CachedResult result = sample_result();
    std::string record = encode_cached_result(result);
    // Remove the output kind and the fence, as lockrun 0.1 wrote the record, and the files.
    std::size_t fence_offset = k_host_length_offset + 8 + result.host.size();
    record.erase(fence_offset, 8 + 1);
    record.resize(record.size() - 4);
    record[k_version_offset] = 1;
    auto decoded = decode_cached_result(record);
    ASSERT_TRUE(std::holds_alternative<CachedResult>(decoded));
    result.fence = 0;
    EXPECT_EQ(std::get<CachedResult>(decoded), result);
}

TEST(CachedResultDecode, ReadsAVersionTwoRecord) {
    CachedResult result = sample_result();
    std::string record = encode_cached_result(result);
    // Remove the output kind, as lockrun 0.2 before compression wrote the record, and the
    // files.
    record.erase(kind_offset(result), 1);
    record.resize(record.size() - 4);
    record[k_version_offset] = 2;
    auto decoded = decode_cached_result(record);
    ASSERT_TRUE(std::holds_alternative<CachedResult>(decoded));
    EXPECT_EQ(std::get<CachedResult>(decoded), result);
}

TEST(CachedResultDecode, ReadsAVersionThreeRecord) {
    CachedResult result = sample_result();
    std::string record = encode_cached_result(result);
    // Without the files' count, as lockrun 0.2 before --files wrote the record.
    record.resize(record.size() - 4);
    record[k_version_offset] = 3;
    auto decoded = decode_cached_result(record);
    ASSERT_TRUE(std::holds_alternative<CachedResult>(decoded));
    EXPECT_EQ(std::get<CachedResult>(decoded), result);
}

// sample_result() with --files dist and bin/tool, and an archive of `archive_bytes`.
CachedResult result_with_files(std::string_view archive_bytes = "a tar archive, as bytes") {
    CachedResult result = sample_result();
    result.files = {"bin/tool", "dist"};
    ZstdCompressor compressor;
    compressor.add(archive_bytes, result.files_archive);
    compressor.finish(result.files_archive);
    result.files_archive_bytes = archive_bytes.size();
    return result;
}

TEST(CachedResultFiles, KeepsThePathsAndTheArchive) {
    CachedResult result = result_with_files();
    EXPECT_EQ(round_trip(result), result);
}

TEST(CachedResultFiles, KeepsPathsWithCompressedOutput) {
    CachedResult result = result_with_files();
    result.output.clear();
    ZstdCompressor compressor;
    const std::string line = "line\n";
    compressor.add(output_piece_header(OutputStream::stdout_stream, 5), result.compressed_output);
    compressor.add(line, result.compressed_output);
    compressor.finish(result.compressed_output);
    result.compressed_bytes = 5;
    EXPECT_EQ(round_trip(result), result);
}

TEST(CachedResultFiles, PathsWithoutAnArchiveOrAnEmptyPathAreUnreadable) {
    CachedResult result = result_with_files();
    result.files_archive.clear();
    result.files_archive_bytes = 0;
    EXPECT_EQ(unreadable_reason(encode_cached_result(result)), "empty archive of --files");
    result = result_with_files();
    result.files = {""};
    EXPECT_EQ(unreadable_reason(encode_cached_result(result)), "an empty --files path");
}

TEST(CachedResultFiles, ATruncatedFilesSectionIsUnreadable) {
    std::string record = encode_cached_result(result_with_files());
    for (std::size_t cut = 1; cut < 40; ++cut) {
        EXPECT_FALSE(unreadable_reason(record.substr(0, record.size() - cut)).empty()) << cut;
    }
}

// sample_result()'s output, large, compressed as the capture compresses it.
CachedResult compressed_result(std::string* replayed_stdout = nullptr) {
    CachedResult result = sample_result();
    result.output.clear();
    ZstdCompressor compressor;
    std::string line = "compiling module 0000 of 9999\n";
    for (int i = 0; i < 3000; ++i) {
        OutputStream stream =
            i % 100 == 99 ? OutputStream::stderr_stream : OutputStream::stdout_stream;
        compressor.add(output_piece_header(stream, static_cast<std::uint32_t>(line.size())),
                       result.compressed_output);
        compressor.add(line, result.compressed_output);
        result.compressed_bytes += line.size();
        if (replayed_stdout && stream == OutputStream::stdout_stream) *replayed_stdout += line;
    }
    compressor.finish(result.compressed_output);
    return result;
}

TEST(CachedResultCompressed, RoundTripsAndReplaysEveryPieceInOrder) {
    std::string expected_stdout;
    CachedResult result = compressed_result(&expected_stdout);
    EXPECT_LT(result.compressed_output.size() * 10, result.compressed_bytes);
    CachedResult decoded = round_trip(result);
    EXPECT_EQ(decoded, result);
    EXPECT_EQ(decoded.output_bytes(), 3000u * 30);
    EXPECT_TRUE(decoded.stdout_bytes() == expected_stdout);
    int stderr_pieces = 0;
    std::string error =
        for_each_output_piece(decoded, [&](OutputStream stream, std::string_view bytes) {
            if (stream == OutputStream::stderr_stream) {
                ++stderr_pieces;
                EXPECT_EQ(bytes, "compiling module 0000 of 9999\n");
            }
        });
    EXPECT_EQ(error, "");
    EXPECT_EQ(stderr_pieces, 30);
}

TEST(CachedResultCompressed, ADamagedFrameIsUnreadableNeverHalfReplayed) {
    CachedResult result = compressed_result();
    std::string valid = encode_cached_result(result);
    std::size_t frame_offset = valid.size() - result.compressed_output.size();
    for (std::size_t at :
         {frame_offset + 4, frame_offset + result.compressed_output.size() / 2, valid.size() - 1}) {
        std::string record = valid;
        record[at] ^= 0x41;
        EXPECT_NE(unreadable_reason(record), "") << at;
    }
}

TEST(CachedResultCompressed, AnOutputSizeThatDisagreesWithTheFrameIsUnreadable) {
    CachedResult result = compressed_result();
    for (std::uint64_t claimed :
         {result.compressed_bytes - 1, result.compressed_bytes + 1, std::uint64_t{0}}) {
        CachedResult lying = result;
        lying.compressed_bytes = claimed;
        EXPECT_NE(unreadable_reason(encode_cached_result(lying)).find("compressed output"),
                  std::string::npos)
            << claimed;
    }
}

TEST(CachedResultCompressed, FramesThatAreNotPiecesAreUnreadable) {
    auto frame_of = [](std::string_view content) {
        std::string frame;
        ZstdCompressor compressor;
        compressor.add(content, frame);
        compressor.finish(frame);
        return frame;
    };
    CachedResult result = sample_result();
    result.output.clear();
    // A bad stream tag; a piece cut short; bytes after the frame; an empty frame field.
    result.compressed_output = frame_of(output_piece_header(OutputStream::stdout_stream, 3) +
                                        "abc" + std::string("\x07\x01\0\0\0x", 6));
    result.compressed_bytes = 4;
    EXPECT_EQ(unreadable_reason(encode_cached_result(result)),
              "corrupt stream tag in the compressed output");
    result.compressed_output =
        frame_of(output_piece_header(OutputStream::stdout_stream, 10) + "abc");
    result.compressed_bytes = 10;
    EXPECT_EQ(unreadable_reason(encode_cached_result(result)),
              "compressed output cut inside a piece");
    result.compressed_output =
        frame_of(output_piece_header(OutputStream::stdout_stream, 3) + "abc") + "junk";
    result.compressed_bytes = 3;
    EXPECT_NE(unreadable_reason(encode_cached_result(result)).find("compressed output"),
              std::string::npos);
}

// A frame made by the library itself with `configure`d parameters, of `content`.
std::string zstd_frame(std::string_view content, void (*configure)(ZSTD_CCtx*)) {
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> context(ZSTD_createCCtx(), &ZSTD_freeCCtx);
    // As ZstdCompressor sets it up, then changed.
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);
    configure(context.get());
    std::string frame(ZSTD_compressBound(content.size()) + 64, '\0');
    ZSTD_outBuffer out{frame.data(), frame.size(), 0};
    ZSTD_inBuffer in{content.data(), content.size(), 0};
    // Streamed (continue, then end), so that the frame's header does not learn the size.
    EXPECT_FALSE(ZSTD_isError(ZSTD_compressStream2(context.get(), &out, &in, ZSTD_e_continue)));
    std::size_t left = 1;
    while (left != 0) {
        left = ZSTD_compressStream2(context.get(), &out, &in, ZSTD_e_end);
        EXPECT_FALSE(ZSTD_isError(left));
        if (ZSTD_isError(left)) break;
    }
    frame.resize(out.pos);
    return frame;
}

// A record whose output is `frame`, said to be `claimed` bytes decompressed.
std::string compressed_record(std::string frame, std::uint64_t claimed) {
    CachedResult result = sample_result();
    result.output.clear();
    result.compressed_output = std::move(frame);
    result.compressed_bytes = claimed;
    return encode_cached_result(result);
}

// The reason such a record is unreadable.
std::string compressed_reason(std::string frame, std::uint64_t claimed) {
    return unreadable_reason(compressed_record(std::move(frame), claimed));
}

std::string pieces(std::initializer_list<std::string_view> stdout_pieces) {
    std::string content;
    for (std::string_view piece : stdout_pieces) {
        content += output_piece_header(OutputStream::stdout_stream,
                                       static_cast<std::uint32_t>(piece.size()));
        content += piece;
    }
    return content;
}

void as_written(ZSTD_CCtx*) {}

TEST(CachedResultCompressed, OnlyFramesAsLockrunWritesThemAreRead) {
    const std::string content = pieces({"abc"});
    ASSERT_TRUE(std::holds_alternative<CachedResult>(
        decode_cached_result(compressed_record(zstd_frame(content, as_written), 3))));
    // Empty pieces: headers alone would decompress without end.
    EXPECT_EQ(compressed_reason(zstd_frame(pieces({"abc", ""}), as_written), 3),
              "an empty piece in the compressed output");
    // Without a checksum, or needing a larger window than lockrun's.
    EXPECT_EQ(compressed_reason(zstd_frame(content,
                                           [](ZSTD_CCtx* c) {
                                               ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
                                           }),
                                3),
              "compressed output: a frame without a checksum");
    EXPECT_EQ(compressed_reason(
                  zstd_frame(content,
                             [](ZSTD_CCtx* c) { ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 27); }),
                  3),
              "compressed output: a window larger than lockrun writes");
    // A skippable frame, and a frame of a legacy format (v0.7's magic), are not read.
    std::string skippable("\x50\x2a\x4d\x18\x04\0\0\0abcd", 12);
    EXPECT_EQ(compressed_reason(skippable, 3), "compressed output: not a zstd frame");
    std::string legacy = zstd_frame(content, as_written);
    legacy[0] = '\x27';
    EXPECT_EQ(compressed_reason(legacy, 3), "compressed output: not a zstd frame");
    // Two frames, and a frame cut short.
    std::string frame = zstd_frame(content, as_written);
    EXPECT_EQ(compressed_reason(frame + frame, 3), "compressed output: bytes after its frame");
    EXPECT_NE(compressed_reason(frame.substr(0, frame.size() - 3), 3), "");
    // A size claim of zero, or of more than lockrun stores.
    EXPECT_EQ(compressed_reason(frame, 0), "empty compressed output");
    EXPECT_EQ(compressed_reason(frame, k_max_record_output + 1),
              "compressed output larger than lockrun stores");
}

TEST(CachedResultCompressed, EncodingReservesTheStoredSizeNotTheOutputs) {
    CachedResult result = sample_result();
    result.output.clear();
    result.compressed_output = zstd_frame(pieces({"abc"}), as_written);
    result.compressed_bytes = std::uint64_t{1} << 50;  // would not fit in any memory
    EXPECT_NO_THROW(encode_cached_result(result));
}

TEST(CachedResultCompressed, APieceHeaderCutBetweenTwoDecompressedBlocksIsRead) {
    // Blocks decompress 128 KiB at a time: the second piece's header straddles the first
    // block's end.
    std::string first(128 * 1024 - 5 - 2, 'a');
    std::string content = pieces({first, "second piece"});
    CachedResult result = sample_result();
    result.output.clear();
    result.compressed_output = zstd_frame(content, as_written);
    result.compressed_bytes = first.size() + 12;
    CachedResult decoded = round_trip(result);
    EXPECT_TRUE(decoded.stdout_bytes() == first + "second piece");
}

TEST(CachedResultCompressed, SurvivesRandomByteFlips) {
    const std::string valid = encode_cached_result(compressed_result());
    std::mt19937 random(20261206);
    std::uniform_int_distribution<std::size_t> position(0, valid.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int iteration = 0; iteration < 2000; ++iteration) {
        std::string record = valid;
        record[position(random)] ^= static_cast<char>(byte(random) | 1);
        auto decoded = decode_cached_result(record);
        if (auto* result = std::get_if<CachedResult>(&decoded)) {
            // Only a flip outside the output (a date, the host) leaves it readable.
            EXPECT_EQ(result->output_bytes(), 3000u * 30);
        }
    }
}

TEST(CachedResultDecode, KeepsTheFence) {
    EXPECT_EQ(round_trip(sample_result()).fence, 1'763'800'000'456u);
}

TEST(CachedResultDecode, RejectsVersionZero) {
    std::string record = encode_cached_result(sample_result());
    record[k_version_offset] = 0;
    EXPECT_NE(unreadable_reason(record).find("format"), std::string::npos);
}

TEST(CachedResultDecode, RejectsACorruptStreamTag) {
    CachedResult result = sample_result();
    for (unsigned char tag : {0, 3, 0xff}) {
        std::string record = encode_cached_result(result);
        record[first_chunk_offset(result)] = static_cast<char>(tag);
        EXPECT_EQ(unreadable_reason(record), "corrupt stream tag") << int(tag);
    }
}

TEST(CachedResultDecode, RejectsAnExitCodeOutOfRange) {
    for (std::int32_t exit_code : {-1, 256, INT32_MAX, INT32_MIN}) {
        std::string record = encode_cached_result(sample_result());
        overwrite_i32(record, k_exit_code_offset, exit_code);
        EXPECT_EQ(unreadable_reason(record), "corrupt exit code") << exit_code;
    }
}

TEST(CachedResultDecode, RejectsAnExitCodeOutOfRangeThatWasEncoded) {
    CachedResult result = sample_result();
    result.exit_code = 256;
    EXPECT_EQ(unreadable_reason(encode_cached_result(result)), "corrupt exit code");
}

TEST(CachedResultDecode, RejectsTrailingBytes) {
    std::string record = encode_cached_result(sample_result());
    EXPECT_EQ(unreadable_reason(record + "x"), "trailing bytes after the record");
    EXPECT_EQ(unreadable_reason(record + std::string(1, '\0')), "trailing bytes after the record");
    EXPECT_EQ(unreadable_reason(record + record), "trailing bytes after the record");
}

TEST(CachedResultDecode, RejectsAChunkLengthBeyondTheRecord) {
    CachedResult result = sample_result();
    const std::size_t length_offset = first_chunk_offset(result) + 1;
    for (std::uint64_t claimed : {std::uint64_t{1} << 63, ~std::uint64_t{0}, std::uint64_t{1} << 32,
                                  std::uint64_t{100'000}}) {
        std::string record = encode_cached_result(result);
        overwrite_u64(record, length_offset, claimed);
        EXPECT_EQ(unreadable_reason(record), "truncated") << claimed;
    }
}

TEST(CachedResultDecode, RejectsAHostLengthBeyondTheRecord) {
    for (std::uint64_t claimed : {std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
        std::string record = encode_cached_result(sample_result());
        overwrite_u64(record, k_host_length_offset, claimed);
        EXPECT_EQ(unreadable_reason(record), "truncated") << claimed;
    }
}

TEST(CachedResultDecode, RejectsAChunkCountBeyondTheRecord) {
    CachedResult result = sample_result();
    std::string record = encode_cached_result(result);
    const std::size_t count_offset = first_chunk_offset(result) - 4;
    for (std::size_t i = 0; i < 4; ++i) record[count_offset + i] = '\xff';
    EXPECT_EQ(unreadable_reason(record), "truncated");
}

TEST(CachedResultDecode, SurvivesRandomByteFlips) {
    const std::string valid = encode_cached_result(sample_result());
    std::mt19937 random(20261122);
    std::uniform_int_distribution<std::size_t> position(0, valid.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> flips(1, 4);
    int unreadable = 0;
    for (int iteration = 0; iteration < 5000; ++iteration) {
        std::string record = valid;
        for (int f = flips(random); f > 0; --f) {
            record[position(random)] ^= static_cast<char>(byte(random) | 1);
        }
        auto decoded = decode_cached_result(record);
        if (auto* result = std::get_if<CachedResult>(&decoded)) {
            // A flip inside the payload can leave a well-formed record; it must still be sane.
            EXPECT_GE(result->exit_code, 0);
            EXPECT_LE(result->exit_code, 255);
            EXPECT_LE(result->output_bytes(), valid.size());
        } else {
            EXPECT_FALSE(std::get<UnreadableRecord>(decoded).reason.empty());
            ++unreadable;
        }
    }
    EXPECT_GT(unreadable, 0);
}

TEST(CachedResultDecode, SurvivesRandomTruncatedGarbage) {
    std::mt19937 random(7);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(0, 80);
    for (int iteration = 0; iteration < 2000; ++iteration) {
        std::string record = "LKRN";
        record.push_back(static_cast<char>(k_cached_result_version));
        for (std::size_t n = length(random); n > 0; --n) {
            record.push_back(static_cast<char>(byte(random)));
        }
        auto decoded = decode_cached_result(record);
        if (auto* result = std::get_if<CachedResult>(&decoded)) {
            EXPECT_LE(result->output_bytes(), record.size());
        }
    }
}

TEST(CachedResultBytes, StdoutBytesConcatenatesOnlyStdoutInOrder) {
    CachedResult result = sample_result();
    EXPECT_EQ(result.stdout_bytes(), std::string("first line\nbin\0ary\n", 19));
}

TEST(CachedResultBytes, StdoutBytesOfNoOutputIsEmpty) {
    EXPECT_EQ(CachedResult{}.stdout_bytes(), "");
    CachedResult only_stderr;
    only_stderr.output = {{OutputStream::stderr_stream, "oops\n"}};
    EXPECT_EQ(only_stderr.stdout_bytes(), "");
}

TEST(CachedResultBytes, OutputBytesCountsBothStreams) {
    CachedResult result = sample_result();
    EXPECT_EQ(result.output_bytes(), 11u + 19u + 8u + 0u + 5u);
    EXPECT_EQ(CachedResult{}.output_bytes(), 0u);
}

TEST(CachedResultBytes, OutputBytesCountsAMebibyte) {
    CachedResult result;
    result.output = {{OutputStream::stdout_stream, std::string(1 << 20, 'x')},
                     {OutputStream::stderr_stream, std::string(1, '\0')}};
    EXPECT_EQ(result.output_bytes(), (1u << 20) + 1u);
}

}  // namespace
}  // namespace lockrun
