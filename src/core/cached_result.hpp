#pragma once
// The result of one run as it is stored for later callers and handed to waiters (SPEC §1,
// §5 :out): versioned and binary-safe, so that a record written by another version of
// lockrun, or damaged, is recognised as such and treated as a miss instead of replayed.

#include <cstdint>
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

struct CachedResult {
    int exit_code = 0;
    std::int64_t created_unix_ms = 0;
    std::int64_t duration_ms = 0;
    std::string host;
    std::vector<OutputChunk> output;
    std::uint64_t fence = 0;  // the run's fencing token; 0: not known (a format 1 record)

    std::uint64_t output_bytes() const;
    // Only the stdout chunks, concatenated (for `cache show`).
    std::string stdout_bytes() const;
    bool operator==(const CachedResult&) const = default;
};

// Format 2 added the fence; format 1 records (lockrun 0.1) are still read, fence 0.
inline constexpr std::uint8_t k_cached_result_version = 2;

std::string encode_cached_result(const CachedResult& result);

// Why a record cannot be used; the message is for one warning line.
struct UnreadableRecord {
    std::string
        reason;  // "truncated", "not a lockrun record", "written by a newer lockrun (format 2)"
};
std::variant<CachedResult, UnreadableRecord> decode_cached_result(std::string_view record);

}  // namespace lockrun
