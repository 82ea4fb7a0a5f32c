#include "backend/redis/redis_keys.hpp"

#include "util/digest.hpp"

namespace lockrun {

RedisKeyNames redis_key_names(std::string_view prefix, std::string_view key) {
    // Redis Cluster hashes only what lies between the first '{' and the next '}', so a brace
    // inside KEY would cut the tag short; its hash has no braces and still names one slot.
    // The ":h:" after it keeps such a key apart from the KEY that is that very hex string
    // (same slot, other names).
    const bool has_brace = key.find_first_of("{}") != std::string_view::npos;
    const std::string tag = has_brace ? sha256_hex(key) : std::string(key);
    std::string base;
    base.reserve(prefix.size() + tag.size() + 5);
    base.append(prefix).append("{").append(tag).append(has_brace ? "}:h:" : "}:");
    return RedisKeyNames{
        .lock = base + "lock",
        .fence = base + "fence",
        .out = base + "out",
        .last = base + "last",
        .refresh = base + "refresh",
        .holders = base + "holders",
        .holder = base + "holder",
        .writer = base + "writer",
        .live = base + "live",
        .released = base + "released",
    };
}

}  // namespace lockrun
