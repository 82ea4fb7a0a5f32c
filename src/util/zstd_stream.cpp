#include "util/zstd_stream.hpp"

// ZSTD_getFrameHeader(): the frame's window and checksum, checked before anything is
// allocated for it.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include <cstdint>
#include <new>
#include <stdexcept>

#include "util/little_endian.hpp"

namespace lockrun {
namespace {

// Level 1: the output relay waits for the compressor, so speed counts more than ratio; logs
// and build output still shrink several times.
constexpr int k_level = 1;
// Frames that lockrun writes use a window of 512 KiB; a frame asking for more than 1 MiB was
// not written by lockrun, and must not make a replay allocate it.
constexpr int k_window_log = 19;
constexpr int k_max_window_log = 20;

// Why `frame` is not one frame as lockrun writes it (a standard zstd frame, not a legacy or
// skippable one, with a window of at most 1 MiB and a checksum); empty when it is. The
// library's decoders of legacy formats would allocate whatever window their header asks.
std::string not_ours(std::string_view frame, const std::string& what) {
    std::string_view magic = frame.substr(0, 4);
    std::uint32_t number = 0;
    if (!take_little_endian(magic, number) || number != ZSTD_MAGICNUMBER) {
        return what + ": not a zstd frame";
    }
    ZSTD_frameHeader header{};
    const std::size_t status = ZSTD_getFrameHeader(&header, frame.data(), frame.size());
    if (ZSTD_isError(status) || status != 0) return what + ": damaged frame header";
    if (header.frameType != ZSTD_frame) return what + ": not a zstd data frame";
    if (header.windowSize > (1ULL << k_max_window_log)) {
        return what + ": a window larger than lockrun writes";
    }
    if (header.checksumFlag == 0) return what + ": a frame without a checksum";
    return {};
}

}  // namespace

void ZstdCompressor::Free::operator()(ZSTD_CCtx_s* context) const {
    ZSTD_freeCCtx(context);
}

ZstdCompressor::ZstdCompressor() : context_(ZSTD_createCCtx()), step_(ZSTD_CStreamOutSize(), '\0') {
    if (!context_) throw std::bad_alloc();
    ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_compressionLevel, k_level);
    // Pinned, not the level's default: every reader refuses more (not_ours()), whichever
    // libzstd the writer was built with.
    ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_windowLog, k_window_log);
    ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_checksumFlag, 1);
}

void ZstdCompressor::add(std::string_view bytes, std::string& out) {
    compress(bytes, false, out);
}

void ZstdCompressor::finish(std::string& out) {
    compress({}, true, out);
}

void ZstdCompressor::compress(std::string_view bytes, bool end, std::string& out) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    const ZSTD_EndDirective directive = end ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
        ZSTD_outBuffer buffer{step_.data(), step_.size(), 0};
        const std::size_t left = ZSTD_compressStream2(context_.get(), &buffer, &in, directive);
        out.append(step_.data(), buffer.pos);
        if (ZSTD_isError(left)) {
            // Only no memory, or a misuse of the API, can fail here.
            if (ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation) throw std::bad_alloc();
            throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(left));
        }
        if (end ? left == 0 : in.pos == in.size) return;
    }
}

void ZstdReader::FreeContext::operator()(ZSTD_DCtx_s* context) const {
    ZSTD_freeDCtx(context);
}

ZstdReader::ZstdReader(std::string_view frame, std::string what)
    : context_(ZSTD_createDCtx()),
      in_(frame),
      buffer_(ZSTD_DStreamOutSize(), '\0'),
      what_(std::move(what)) {
    if (!context_) throw std::bad_alloc();
    error_ = not_ours(frame, what_);
    ZSTD_DCtx_setParameter(context_.get(), ZSTD_d_windowLogMax, k_max_window_log);
}

std::string_view ZstdReader::next() {
    while (error_.empty() && !ended_) {
        ZSTD_inBuffer in{in_.data(), in_.size(), position_};
        ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
        const std::size_t left = ZSTD_decompressStream(context_.get(), &out, &in);
        const bool took_nothing = in.pos == position_;
        position_ = in.pos;
        if (ZSTD_isError(left)) {
            error_ = what_ + ": " + ZSTD_getErrorName(left);
            break;
        }
        if (left == 0) {
            ended_ = true;
            if (position_ < in_.size()) error_ = what_ + ": bytes after its frame";
        } else if (took_nothing && out.pos == 0) {
            // No input taken and no output room used: the frame is cut short.
            error_ = what_ + ": truncated";
        }
        if (out.pos > 0) return {buffer_.data(), out.pos};
    }
    return {};
}

std::string zstd_decompress(std::string_view frame,
                            const std::function<bool(std::string_view)>& sink) {
    ZstdReader reader(frame);
    for (std::string_view bytes = reader.next(); !bytes.empty(); bytes = reader.next()) {
        if (!sink(bytes)) return {};
    }
    return reader.error();
}

}  // namespace lockrun
