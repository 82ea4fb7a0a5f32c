#pragma once
// zstd compression of bytes given piece by piece, and decompression of one frame piece by
// piece: for outputs too large to hold uncompressed (SPEC §1, stored results). Memory is the
// library's context (about 1 MiB at the level used) plus one buffer, whatever the size.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace lockrun {

class ZstdCompressor {
public:
    ZstdCompressor();
    // Compresses `bytes`, appending what the library emits to `out`.
    void add(std::string_view bytes, std::string& out);
    // Ends the frame (with its checksum), appending the rest to `out`; the compressor is spent.
    void finish(std::string& out);

private:
    struct Free {
        void operator()(ZSTD_CCtx_s* context) const;
    };
    void compress(std::string_view bytes, bool end, std::string& out);
    std::unique_ptr<ZSTD_CCtx_s, Free> context_;
    std::string step_;  // what one step of the library emits, before it joins `out`
};

// Decompresses one frame as ZstdCompressor writes it, a buffer at a time, as the reader
// asks (libarchive pulls the archive of --files this way). A frame of another kind (legacy,
// skippable, without a checksum) or one that needs a window over 1 MiB is refused before
// anything is allocated for it.
class ZstdReader {
public:
    // `what` names the bytes in the error messages ("compressed output: truncated").
    explicit ZstdReader(std::string_view frame, std::string what = "compressed output");
    // The next bytes, valid until the next call; empty at the end of the frame or at an
    // error.
    std::string_view next();
    // Empty while the frame is whole so far; else why it is not, for one warning line. Set
    // when next() returned empty for it: a frame cut short or with bytes after it is found
    // only at its end.
    const std::string& error() const { return error_; }

private:
    struct FreeContext {
        void operator()(ZSTD_DCtx_s* context) const;
    };
    std::unique_ptr<ZSTD_DCtx_s, FreeContext> context_;
    std::string_view in_;
    std::size_t position_ = 0;
    std::string buffer_;
    std::string what_;
    std::string error_;
    bool ended_ = false;
};

// Decompresses `frame`, which must be exactly one zstd frame as ZstdCompressor writes it,
// handing the bytes to `sink` in pieces; `sink` returns false to stop. Returns an empty
// string when the whole frame was decompressed (or `sink` stopped it), else why not, for one
// warning line. A frame of another kind (legacy, skippable, without a checksum) or one that
// needs a window over 1 MiB is refused before anything is allocated for it.
std::string zstd_decompress(std::string_view frame,
                            const std::function<bool(std::string_view)>& sink);

}  // namespace lockrun
