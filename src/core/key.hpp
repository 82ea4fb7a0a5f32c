#pragma once
// The user's KEY (SPEC §2) and the Redis key names derived from it (SPEC §5).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

// Returns nullopt when KEY is acceptable (1-512 bytes of valid UTF-8 with no control
// characters, C0, DEL or C1), else a short reason such as "is empty", "is longer than 512
// bytes", "contains a control character at byte 7", "is not valid UTF-8 at byte 3".
std::optional<std::string> key_problem(std::string_view key);

// The names of every Redis key of one KEY, all under one hash tag so that they share a
// Redis Cluster slot. The tag is KEY itself; when KEY contains '{' or '}', the tag is the
// hex SHA-256 of KEY and the names go on with ":h:" (PREFIX{SHA}:h:lock), so that they
// differ from those of the KEY that is that hex string.
struct RedisKeyNames {
    std::string lock;      // PREFIX{TAG}:lock
    std::string fence;     // PREFIX{TAG}:fence
    std::string out;       // PREFIX{TAG}:out
    std::string last;      // PREFIX{TAG}:last   the outcome of the last run, for its waiters
    std::string released;  // PREFIX{TAG}:released   (a pub/sub channel, not a key)
};
RedisKeyNames redis_key_names(std::string_view prefix, std::string_view key);

// "cmd:" + hex SHA-256 of the argv joined with NUL bytes (SPEC §2, --key-from-command).
std::string key_from_command(const std::vector<std::string>& argv);

}  // namespace lockrun
