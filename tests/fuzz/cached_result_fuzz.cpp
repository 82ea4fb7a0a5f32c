// libFuzzer: the cache-record decoder must never crash, and what it accepts must encode
// back to the same bytes (the format has one spelling per record). A record of an older
// format that is still read (1 without the fence, 2 without compression, 3 without --files)
// is written in the
// current one: it must decode back to the same result. What it accepts replays whole: a
// compressed output decompresses to exactly the size its record gives. The signed envelope
// (core/record_seal.hpp) is opened too.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/cached_result.hpp"
#include "core/record_seal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    // --cache-key-file's envelope: opening never crashes, with a secret or without.
    (void)lockrun::RecordSeal(std::string(32, 'k')).open(bytes, "lockrun:{k}:out", 0);
    (void)lockrun::RecordSeal().open(bytes, "lockrun:{k}:out", 0);
    auto decoded = lockrun::decode_cached_result(bytes);
    auto* result = std::get_if<lockrun::CachedResult>(&decoded);
    if (result == nullptr) return 0;
    std::uint64_t replayed = 0;
    std::string stopped = lockrun::for_each_output_piece(
        *result, [&](lockrun::OutputStream, std::string_view piece) { replayed += piece.size(); });
    if (!stopped.empty() || replayed != result->output_bytes()) std::abort();
    std::string encoded = lockrun::encode_cached_result(*result);
    if (static_cast<std::uint8_t>(bytes[4]) == lockrun::k_cached_result_version) {
        if (encoded != bytes) std::abort();
        return 0;
    }
    auto again = lockrun::decode_cached_result(encoded);
    auto* same = std::get_if<lockrun::CachedResult>(&again);
    if (same == nullptr || !(*same == *result)) std::abort();
    return 0;
}
