#pragma once
// The result of one run as it is stored for later callers and handed to waiters (SPEC §1,
// §5 :out): versioned and binary-safe, so that a record written by another version of
// lockrun, or damaged, is recognised as such and treated as a miss instead of replayed.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lockrun {

enum class OutputStream : std::uint8_t { stdout_stream = 1, stderr_stream = 2 };

// Consecutive bytes of one stream, in the order the command produced them.
struct OutputChunk {
    OutputStream stream;
    std::string bytes;
    bool operator==(const OutputChunk&) const = default;
};

// Output over this size is kept compressed (zstd), as it is captured.
inline constexpr std::uint64_t k_compress_output_above = 64 * 1024;
// The most output a record holds, decompressed: more is not stored, however well it
// compresses, and a record that claims more is unreadable, so that a forged one cannot make
// a caller decompress (or print) without end.
inline constexpr std::uint64_t k_max_record_output = std::uint64_t{4} << 30;

struct CachedResult {
    int exit_code = 0;
    std::int64_t created_unix_ms = 0;
    std::int64_t duration_ms = 0;
    std::string host;
    // The output, either as it was read (`output`) or, when it was large, compressed: one
    // zstd frame of pieces (output_piece_header() then the bytes), `compressed_bytes` long
    // once decompressed. One of the two is empty.
    std::vector<OutputChunk> output;
    std::uint64_t fence = 0;  // the run's fencing token; 0: not known (a format 1 record)
    std::string compressed_output{};
    std::uint64_t compressed_bytes = 0;
    // --files: the paths the run shared, as given (sorted), and their archive (tar, pax
    // format) as one zstd frame, `files_archive_bytes` long once decompressed. No paths: the
    // run shared none; paths and an archive of no entries: none of them existed.
    std::vector<std::string> files{};
    std::string files_archive{};
    std::uint64_t files_archive_bytes = 0;

    // The output's size as the command wrote it, compressed or not.
    std::uint64_t output_bytes() const;
    // Only the stdout chunks, concatenated (for tests).
    std::string stdout_bytes() const;
    bool operator==(const CachedResult&) const = default;
};

// Hands the output to `write` in the order it was produced, piece by piece: a compressed
// output is decompressed as it goes, in bounded memory. Returns an empty string, or why the
// output stopped short; decode_cached_result() has checked that a record's decompresses
// whole.
[[nodiscard]] std::string for_each_output_piece(
    const CachedResult& result, const std::function<void(OutputStream, std::string_view)>& write);

// The header of one piece of compressed output: its stream (1 byte) and size (4 bytes).
std::string output_piece_header(OutputStream stream, std::uint32_t size);

// Format 4 added --files, 3 compressed output, 2 the fence; formats 1 (lockrun 0.1, fence
// 0) to 3 are still read.
inline constexpr std::uint8_t k_cached_result_version = 4;

std::string encode_cached_result(const CachedResult& result);

// Why a record cannot be used; the message is for one warning line.
struct UnreadableRecord {
    std::string
        reason;  // "truncated", "not a lockrun record", "written by a newer lockrun (format 2)"
};
std::variant<CachedResult, UnreadableRecord> decode_cached_result(std::string_view record);

}  // namespace lockrun
