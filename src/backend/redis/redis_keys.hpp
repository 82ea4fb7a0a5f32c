#pragma once
// The Redis key names derived from the user's KEY (SPEC §5).

#include <string>
#include <string_view>

namespace lockrun {

// The names of every Redis key of one KEY, all under one hash tag so that they share a
// Redis Cluster slot. The tag is KEY itself; when KEY contains '{' or '}', the tag is the
// hex SHA-256 of KEY and the names go on with ":h:" (PREFIX{SHA}:h:lock), so that they
// differ from those of the KEY that is that hex string.
struct RedisKeyNames {
    std::string lock;      // PREFIX{TAG}:lock
    std::string fence;     // PREFIX{TAG}:fence
    std::string out;       // PREFIX{TAG}:out
    std::string last;      // PREFIX{TAG}:last   the outcome of the last run, for its waiters
    std::string refresh;   // PREFIX{TAG}:refresh   a background refresh claimed (--stale)
    std::string holders;   // PREFIX{TAG}:holders   a semaphore's holders (-n N)
    std::string holder;    // PREFIX{TAG}:holder    their records, and the N in force
    std::string writer;    // PREFIX{TAG}:writer    an exclusive caller waits for readers
    std::string live;      // PREFIX{TAG}:live      the running command's output (a stream)
    std::string released;  // PREFIX{TAG}:released   (a pub/sub channel, not a key)
};
RedisKeyNames redis_key_names(std::string_view prefix, std::string_view key);

}  // namespace lockrun
