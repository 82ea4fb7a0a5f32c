#include "backend/redis/key_listing.hpp"

#include "backend/redis/redis_keys.hpp"

namespace lockrun {

std::string scan_pattern(std::string_view prefix) {
    std::string pattern;
    pattern.reserve(prefix.size() + 3);
    for (char c : prefix) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
        pattern += c;
    }
    return pattern + "{*";
}

std::optional<ListableName> listable_name(std::string_view redis_key, std::string_view prefix) {
    if (!redis_key.starts_with(prefix)) return std::nullopt;
    std::string_view rest = redis_key.substr(prefix.size());
    if (!rest.starts_with('{')) return std::nullopt;
    // A tag has no braces (a KEY with one is tagged by its hash), so the first '}' ends it.
    std::size_t close = rest.find('}');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    std::string_view suffix = rest.substr(close + 1);
    ListableName name;
    name.hashed = suffix.starts_with(":h:");
    if (name.hashed) suffix.remove_prefix(2);
    if (suffix != ":lock" && suffix != ":out" && suffix != ":holders") return std::nullopt;
    name.tag = std::string(rest.substr(1, close - 1));
    name.base = std::string(redis_key.substr(0, redis_key.size() - suffix.size() + 1));
    return name;
}

std::optional<ListedKey> listed_key(const ListableName& name, KeyStatus status,
                                    const std::optional<std::string>& recorded_key) {
    if (!status.holder && !status.stored) return std::nullopt;
    ListedKey listed;
    listed.status = std::move(status);
    listed.key = name.tag;
    if (!name.hashed) return listed;
    // The recorded name counts only if it has these names: a lock hash is writable by anyone.
    if (recorded_key && redis_key_names("", *recorded_key).lock == "{" + name.tag + "}:h:lock") {
        listed.key = *recorded_key;
    } else {
        listed.name_known = false;
    }
    return listed;
}

}  // namespace lockrun
