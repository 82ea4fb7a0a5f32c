#pragma once
// The user's KEY (SPEC §2); the Redis key names made from it: backend/redis/redis_keys.hpp.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

// Returns nullopt when KEY is acceptable (1-512 bytes of valid UTF-8 with no control
// characters, C0, DEL or C1), else a short reason such as "is empty", "is longer than 512
// bytes", "contains a control character at byte 7", "is not valid UTF-8 at byte 3".
std::optional<std::string> key_problem(std::string_view key);

// "cmd:" + hex SHA-256 of the argv joined with NUL bytes (SPEC §2, --key-from-command).
std::string key_from_command(const std::vector<std::string>& argv);

}  // namespace lockrun
