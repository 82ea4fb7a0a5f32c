#include "exec/capture.hpp"

#include <algorithm>
#include <new>

namespace lockrun {
namespace {

// Room for the compressed output, reserved once so that it does not double (and copy
// itself) as it grows: the limit and its slack (over_limit_now()), plus what one call of the
// compressor may add past them (a block of 128 KiB, twice over). Untouched pages of it cost
// no memory.
constexpr std::uint64_t k_compressor_steps = 256 * 1024;
constexpr std::uint64_t k_compressed_reserve_max = 64 * 1024 * 1024;
// A compressed piece's size is 32 bits; the relay's reads are far smaller.
constexpr std::size_t k_max_piece = 1024 * 1024;

}  // namespace

void Capture::add(OutputStream stream, std::string_view bytes) {
    if (!wants_bytes()) return;
    // Keeping a copy must never cost the command its output: if memory runs out (ulimit -v,
    // a cgroup), the copy is given up and the relay goes on.
    try {
        keep(stream, bytes);
    } catch (const std::exception& e) {
        give_up(e);
    }
}

void Capture::finish() {
    try {
        finish_frame();
    } catch (const std::exception& e) {
        give_up(e);
    }
}

void Capture::give_up(const std::exception& e) noexcept {
    drop_everything();
    failure = dynamic_cast<const std::bad_alloc*>(&e) != nullptr ? "out of memory"
                                                                 : "the compressor failed";
}

void Capture::keep(OutputStream stream, std::string_view bytes) {
    size += bytes.size();
    if (size > max_output) {
        drop_everything();
        failure = "over 4 GiB, the most a stored result holds";
        return;
    }
    if (!compressor_ && size > std::min(limit, k_compress_output_above)) start_compressing();
    if (over_limit) return;
    if (compressor_) {
        compress(stream, bytes);
    } else if (!chunks.empty() && chunks.back().stream == stream) {
        chunks.back().bytes.append(bytes);
    } else {
        chunks.push_back({stream, std::string(bytes)});
    }
}

void Capture::finish_frame() {
    if (!compressor_ || over_limit) return;
    compressor_->finish(compressed);
    compressor_.reset();
    if (over_limit_now()) drop_everything();
}

bool Capture::over_limit_now() const {
    // Output that fits the limit as read is kept even when compressing made it a little
    // larger (random bytes gain 3 bytes a block of 128 KiB, and 5 a read): "up to and
    // including SIZE" holds, within a slack; output read a byte at a time, whose headers
    // would double it, does not get one.
    const std::uint64_t slack = size <= limit ? limit / 64 + 1024 : 0;
    return compressed.size() > limit + slack;
}

void Capture::start_compressing() {
    compressor_ = std::make_unique<ZstdCompressor>();
    try {
        compressed.reserve(
            std::min(limit + limit / 64 + 1024 + k_compressor_steps, k_compressed_reserve_max));
    } catch (const std::bad_alloc&) {
        // Address space is short (ulimit -v): grow as needed instead, for as long as it lasts.
    }
    std::vector<OutputChunk> kept;
    kept.swap(chunks);
    for (const OutputChunk& chunk : kept) compress(chunk.stream, chunk.bytes);
}

void Capture::compress(OutputStream stream, std::string_view bytes) {
    while (!bytes.empty() && compressor_) {
        std::string_view piece = bytes.substr(0, k_max_piece);
        bytes.remove_prefix(piece.size());
        compressor_->add(output_piece_header(stream, static_cast<std::uint32_t>(piece.size())),
                         compressed);
        compressor_->add(piece, compressed);
        // The compressor holds back up to a block, so this may be seen only at finish().
        if (over_limit_now()) drop_everything();
    }
}

void Capture::drop_everything() {
    over_limit = true;
    std::vector<OutputChunk>().swap(chunks);  // gives the memory back now
    std::string().swap(compressed);
    compressor_.reset();
}

}  // namespace lockrun
