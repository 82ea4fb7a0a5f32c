#pragma once
// What the local backend keeps in its files: the holder of a lock (in the .lock file),
// and a result with its expiry (.out) or with the fence of its run (.last).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/backend.hpp"

namespace lockrun {

struct LocalHolder {
    std::uint64_t fence = 0;
    HolderInfo holder;
};
std::string encode_local_holder(const LocalHolder& holder);
// nullopt for an empty or partly written file (a holder between taking the lock and
// writing it down).
std::optional<LocalHolder> decode_local_holder(std::string_view bytes);

// A record with a number in front: the expiry (unix ms) of a stored result, or the fence
// of the run whose outcome it is.
std::string encode_tagged_record(std::uint64_t tag, std::string_view record);
struct TaggedRecord {
    std::uint64_t tag = 0;
    std::string_view record;
};
std::optional<TaggedRecord> decode_tagged_record(std::string_view bytes);

}  // namespace lockrun
