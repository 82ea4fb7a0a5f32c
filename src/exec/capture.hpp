#pragma once
// The copy of the command's output kept for the cache (SPEC §1): both streams in the order
// they were read, up to --cache-max-bytes. Its memory is the output kept plus at most one
// block: the bytes sit in blocks of at most k_capture_block, so keeping more never copies
// (and briefly doubles) what is already kept, as one growing string would.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/cached_result.hpp"

namespace lockrun {

inline constexpr std::size_t k_capture_block = 1024 * 1024;
inline constexpr std::size_t k_streaming_read = 16 * 1024;

struct Capture {
    bool enabled = false;
    std::uint64_t limit = 0;
    std::uint64_t size = 0;
    bool over_limit = false;
    // Consecutive chunks may hold the same stream: a block is never grown past
    // k_capture_block.
    std::vector<OutputChunk> chunks;

    // Still keeping what is read: enabled, and not yet past the limit.
    bool wants_bytes() const { return enabled && !over_limit; }
    // Keeps the bytes, or, once the output passes the limit, drops everything kept: output
    // that was not kept whole is never stored.
    void add(OutputStream stream, std::string_view bytes);
};

}  // namespace lockrun
