// libFuzzer: the local backend's holder record and tagged record decoders, which read files
// that any process of the user may have written. They accept or refuse, never crash, and
// what they accept encodes back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "backend/local/lock_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto holder = lockrun::decode_local_holder(bytes)) {
        auto again = lockrun::decode_local_holder(lockrun::encode_local_holder(*holder));
        if (!again || again->fence != holder->fence || again->holder.pid != holder->holder.pid ||
            again->holder.host != holder->holder.host ||
            again->holder.user != holder->holder.user ||
            again->holder.command != holder->holder.command ||
            again->holder.started_unix_ms != holder->holder.started_unix_ms) {
            std::abort();
        }
    }
    if (auto tagged = lockrun::decode_tagged_record(bytes)) {
        if (lockrun::encode_tagged_record(tagged->tag, tagged->record) != bytes) std::abort();
    }
    return 0;
}
