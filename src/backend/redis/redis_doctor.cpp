#include "backend/redis/redis_doctor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>

namespace lockrun {
namespace {

using Level = Finding::Level;

std::string milliseconds(std::chrono::nanoseconds elapsed) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f ms",
                  std::chrono::duration<double, std::milli>(elapsed).count());
    return text;
}

// INFO's "field:value" lines.
std::map<std::string, std::string> info_fields(const std::string& info) {
    std::map<std::string, std::string> fields;
    std::istringstream lines(info);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
        fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
    return fields;
}

std::string field(const std::map<std::string, std::string>& fields, const std::string& name) {
    auto found = fields.find(name);
    return found == fields.end() ? "" : found->second;
}

// CONFIG GET name, or nullopt where CONFIG is disabled (managed services).
std::optional<std::string> config_value(RedisConnection& connection, const std::string& name) {
    RespValue reply = connection.call({"CONFIG", "GET", name}, Deadline::never());
    if (reply.type != RespValue::Type::array || reply.elements.size() != 2) return std::nullopt;
    return reply.elements[1].text;
}

Finding round_trip(RedisConnection& connection) {
    std::vector<std::chrono::nanoseconds> round_trips;
    for (int i = 0; i < 5; ++i) {
        auto sent = Clock::now();
        connection.call({"PING"}, Deadline::never());
        round_trips.push_back(Clock::now() - sent);
    }
    std::sort(round_trips.begin(), round_trips.end());
    return {
        Level::ok, "round trip",
        "PING " + milliseconds(round_trips[2]) + " (median of 5); the uncontended path costs 2"};
}

Finding server_version(RedisConnection& connection) {
    auto server = info_fields(connection.call({"INFO", "server"}, Deadline::never()).text);
    std::string version = field(server, "redis_version");
    bool scripts_with_flags = !version.empty() && std::stoi(version) >= 7;
    return {scripts_with_flags ? Level::ok : Level::fail, "server",
            "Redis " + (version.empty() ? "(unknown version)" : version) + ", " +
                field(server, "redis_mode") +
                (scripts_with_flags ? "" : ": lockrun's scripts need Redis 7 or newer")};
}

Finding replication(RedisConnection& connection) {
    auto replication =
        info_fields(connection.call({"INFO", "replication"}, Deadline::never()).text);
    if (field(replication, "role") == "slave") {
        return {Level::fail, "role",
                "this server is a read-only replica: point --redis at the primary"};
    }
    std::string replicas = field(replication, "connected_slaves");
    if (replicas.empty() || replicas == "0") return {Level::ok, "replicas", "none"};
    return {Level::warn, "replicas",
            replicas +
                " connected: a failover can lose a lock (and fencing tokens) that was "
                "not yet replicated"};
}

Finding maxmemory_policy(RedisConnection& connection) {
    std::optional<std::string> policy = config_value(connection, "maxmemory-policy");
    if (!policy) {
        return {Level::warn, "maxmemory-policy",
                "unknown (CONFIG is disabled here): make sure it is noeviction"};
    }
    if (*policy == "noeviction") return {Level::ok, "maxmemory-policy", *policy};
    return {Level::warn, "maxmemory-policy",
            *policy + ": under memory pressure Redis may evict " +
                (policy->starts_with("volatile") ? "held locks (they have a TTL)"
                                                 : "held locks and the fencing counter") +
                "; use noeviction"};
}

Finding persistence(RedisConnection& connection) {
    auto persistence =
        info_fields(connection.call({"INFO", "persistence"}, Deadline::never()).text);
    std::optional<std::string> save = config_value(connection, "save");
    bool aof = field(persistence, "aof_enabled") == "1";
    if (!save) {
        return {aof ? Level::ok : Level::warn, "persistence",
                aof ? "AOF on" : "RDB schedule unknown (CONFIG is disabled), AOF off"};
    }
    if (aof || !save->empty()) {
        return {Level::ok, "persistence",
                std::string(aof ? "AOF on" : "AOF off") + ", RDB " +
                    (save->empty() ? "off" : "save " + *save)};
    }
    return {Level::warn, "persistence",
            "off (no RDB snapshots, no AOF): a restart forgets every lock and resets the "
            "fencing counters"};
}

Finding prefix_tag(const std::string& prefix) {
    if (prefix.find_first_of("{}") == std::string::npos) {
        return {Level::ok, "prefix", "'" + prefix + "'"};
    }
    return {Level::warn, "prefix",
            "'" + prefix +
                "' contains { or }: Redis Cluster would hash every key by the prefix's tag, "
                "not per KEY"};
}

}  // namespace

Diagnosis diagnose_redis(const ConnectionSettings& settings, const std::string& prefix) {
    auto connect_started = Clock::now();
    RedisConnection connection = RedisConnection::open(settings, nullptr);
    // A braced list runs the checks in the order written, which is the order printed.
    return {
        {Level::ok, "reachable",
         connection.where() + ", connected in " + milliseconds(Clock::now() - connect_started)},
        round_trip(connection),
        server_version(connection),
        replication(connection),
        maxmemory_policy(connection),
        persistence(connection),
        prefix_tag(prefix),
    };
}

}  // namespace lockrun
