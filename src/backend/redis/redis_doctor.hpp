#pragma once
#include "backend/diagnosis.hpp"
#include "backend/redis/redis_connection.hpp"

namespace lockrun {

// Checks a Redis server for what matters to locks: reachable, round-trip time, version,
// an evicting maxmemory-policy, persistence, replicas, and a prefix that breaks hash tags.
// Throws what RedisConnection::open throws when the server cannot be used at all.
Diagnosis diagnose_redis(const ConnectionSettings& settings, const std::string& prefix);

}  // namespace lockrun
