// libFuzzer: the cache-record decoder must never crash, and what it accepts must encode
// back to the same bytes (the format has one spelling per record).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/cached_result.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto decoded = lockrun::decode_cached_result(bytes);
    if (auto* result = std::get_if<lockrun::CachedResult>(&decoded)) {
        if (lockrun::encode_cached_result(*result) != bytes) std::abort();
    }
    return 0;
}
