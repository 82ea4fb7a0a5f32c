#pragma once
// The copy of the command's output kept for the cache (SPEC §1): both streams in the order
// they were read, up to --cache-max-bytes. Output over k_compress_output_above (or over the
// limit, if that is smaller) is compressed as it is read, and the limit then applies to the
// compressed size: a large log that compresses well is still stored, and its memory is the
// compressed size plus the compressor's (about 1 MiB), whatever the output's size.

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/cached_result.hpp"
#include "util/zstd_stream.hpp"

namespace lockrun {

struct Capture {
    bool enabled = false;
    std::uint64_t limit = 0;
    std::uint64_t size = 0;  // of the output read, before any compression
    bool over_limit = false;
    // The output as read, while it is small; empty once it is compressed.
    std::vector<OutputChunk> chunks;
    // One zstd frame of pieces (CachedResult::compressed_output), whole after finish().
    std::string compressed;
    // The most output kept, decompressed (a parameter for tests).
    std::uint64_t max_output = k_max_record_output;
    // Why the copy was given up other than for the limit (no memory left, more than
    // max_output), or null; over_limit is then true too. A literal: setting it allocates
    // nothing, since it is set when memory may have run out.
    const char* failure = nullptr;

    // Still keeping what is read: enabled, and not yet past the limit.
    bool wants_bytes() const { return enabled && !over_limit; }
    // Keeps the bytes, or, once the output passes the limit (or k_max_record_output),
    // drops everything kept: output that was not kept whole is never stored.
    void add(OutputStream stream, std::string_view bytes);
    // The output has ended: completes the compressed frame, if there is one.
    void finish();

private:
    void keep(OutputStream stream, std::string_view bytes);
    void finish_frame();
    void give_up(const std::exception& e) noexcept;
    void start_compressing();
    void compress(OutputStream stream, std::string_view bytes);
    void drop_everything();
    bool over_limit_now() const;
    std::unique_ptr<ZstdCompressor> compressor_;
};

}  // namespace lockrun
