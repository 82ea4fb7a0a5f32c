#pragma once
// How `lockrun list` (SPEC §7) finds the keys under a prefix in Redis, as pure functions:
// the SCAN pattern, which Redis key names stand for a listable KEY (a lock or a stored
// result; a fence counter alone is not listed), and the KEY's name, recovered from its
// names (SPEC §5, redis_keys.hpp: PREFIX{KEY}:lock, or PREFIX{SHA}:h:lock for a KEY with '{'
// or '}', whose name only its held lock records).

#include <optional>
#include <string>
#include <string_view>

#include "core/backend.hpp"

namespace lockrun {

// The SCAN MATCH pattern of every key under `prefix`: the prefix with the glob characters
// * ? [ ] \ escaped, then "{*".
std::string scan_pattern(std::string_view prefix);

// A lock or result name of one KEY.
struct ListableName {
    std::string base;  // the names of the KEY without the last part: "PREFIX{TAG}:" (+ "h:")
    std::string tag;   // KEY, or its hex SHA-256
    bool hashed = false;
};

// What "PREFIX{TAG}:lock" / ":out" (or "PREFIX{SHA}:h:lock" / ":h:out") stands for;
// nullopt for any other name (another prefix, :fence, :last, a name lockrun does not make).
std::optional<ListableName> listable_name(std::string_view redis_key, std::string_view prefix);

// The listing of one KEY: nullopt when it has neither a holder nor a stored result (it
// expired between SCAN and the status read). A hashed KEY is named by the KEY that its lock
// records, if that KEY has this hash; else by the hash, with name_known false.
std::optional<ListedKey> listed_key(const ListableName& name, KeyStatus status,
                                    const std::optional<std::string>& recorded_key);

}  // namespace lockrun
