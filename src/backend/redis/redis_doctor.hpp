#pragma once
#include "backend/diagnosis.hpp"
#include "backend/redis/redis_connection.hpp"

namespace lockrun {

// Checks a Redis server for what matters to locks: reachable, round-trip time, which server
// it is, an evicting maxmemory-policy, persistence, replicas, and a prefix that breaks hash
// tags; for a Cluster node its state and (with a key) the node that owns the key's slot;
// for a redis+sentinel:// URL the master each Sentinel names, how many agree, and that
// master's replicas, then the master itself. Throws what RedisConnection::open throws
// when the server cannot be used at all. `key` may be empty.
Diagnosis diagnose_redis(const ConnectionSettings& settings, const std::string& prefix,
                         const std::string& key);

}  // namespace lockrun
