#include "backend/redis/redis_doctor.hpp"

#include "backend/redis/cluster_redirect.hpp"
#include "backend/redis/redis_keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// Which server INFO describes: Redis, or a compatible one by the fields it adds.
std::string server_kind(const std::map<std::string, std::string>& server) {
    std::string version = field(server, "redis_version");
    if (!field(server, "dragonfly_version").empty()) {
        return "Dragonfly " + field(server, "dragonfly_version");
    }
    if (!field(server, "valkey_version").empty() || field(server, "server_name") == "valkey") {
        std::string valkey = field(server, "valkey_version");
        return "Valkey " + (valkey.empty() ? version : valkey);
    }
    if (!field(server, "garnet_version").empty())
        return "Garnet " + field(server, "garnet_version");
    if (field(server, "executable").find("keydb") != std::string::npos) return "KeyDB " + version;
    return "Redis " + (version.empty() ? "(unknown version)" : version);
}

Finding server_version(const std::map<std::string, std::string>& server) {
    std::string version = field(server, "redis_version");
    std::string mode = field(server, "redis_mode");
    bool knows_script_headers = !version.empty() && std::atoi(version.c_str()) >= 7;
    return {Level::ok, "server",
            server_kind(server) + (mode.empty() ? "" : ", " + mode) +
                (knows_script_headers
                     ? ""
                     : " (scripts go without their #!lua line: an out-of-memory server is "
                       "refused at a script's first write, not before it)")};
}

// A Cluster node: the cluster's state, its masters, and with a key the node that owns the
// key's slot (all of the key's names are in it).
std::vector<Finding> cluster_findings(RedisConnection& connection, const std::string& prefix,
                                      const std::string& key) {
    auto info = info_fields(connection.call({"CLUSTER", "INFO"}, Deadline::never()).text);
    std::string state = field(info, "cluster_state");
    std::vector<Finding> found;
    found.push_back({state == "ok" ? Level::ok : Level::fail, "cluster",
                     "state " + (state.empty() ? "unknown" : state) + ", " +
                         field(info, "cluster_known_nodes") + " nodes, " +
                         field(info, "cluster_size") + " serving slots" +
                         (state == "ok" ? "" : ": the cluster does not serve every slot")});
    if (key.empty()) return found;
    std::string lock_name = redis_key_names(prefix, key).lock;
    RespValue slot = connection.call({"CLUSTER", "KEYSLOT", lock_name}, Deadline::never());
    RespValue probe = connection.call({"EXISTS", lock_name}, Deadline::never());
    std::string owner = connection.where();
    if (probe.is_error()) {
        auto redirect = parse_cluster_redirect(probe.text, "");
        owner = redirect ? redirect->node.text() : "unknown (" + probe.text + ")";
    }
    found.push_back({Level::ok, "slot",
                     "the names of " + key + " are in slot " + std::to_string(slot.integer) +
                         ", owned by " + owner});
    return found;
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

// redis+sentinel://: what each Sentinel names as the master, how many agree, and the
// replicas; the settings for the master most of them name (nullopt when none does).
std::optional<ConnectionSettings> sentinel_findings(const ConnectionSettings& settings,
                                                    Diagnosis& found) {
    const RedisUrl& url = settings.url;
    std::map<std::string, int> votes;
    std::map<std::string, RedisNode> named;
    int replicas = -1;
    for (const RedisNode& sentinel : url.seeds()) {
        ConnectionSettings to_sentinel = settings;
        to_sentinel.url = url.at(sentinel);
        to_sentinel.url.user.clear();
        to_sentinel.url.password = settings.sentinel_password;
        to_sentinel.url.db = 0;
        try {
            RedisConnection s = RedisConnection::open(to_sentinel, nullptr);
            RespValue reply = s.call({"SENTINEL", "get-master-addr-by-name", url.sentinel_master},
                                     Deadline::never());
            if (reply.type != RespValue::Type::array || reply.elements.size() != 2) {
                found.push_back({Level::warn, "sentinel " + sentinel.text(),
                                 "knows no master '" + url.sentinel_master + "'"});
                continue;
            }
            auto master = parse_cluster_redirect(
                "MOVED 0 " + reply.elements[0].text + ":" + reply.elements[1].text, sentinel.host);
            if (!master) continue;
            ++votes[master->node.text()];
            named[master->node.text()] = master->node;
            found.push_back({Level::ok, "sentinel " + sentinel.text(),
                             "names " + master->node.text() + " as the master"});
            if (replicas < 0) {
                RespValue listed =
                    s.call({"SENTINEL", "replicas", url.sentinel_master}, Deadline::never());
                if (listed.type == RespValue::Type::array) {
                    replicas = static_cast<int>(listed.elements.size());
                }
            }
        } catch (const BackendUnavailable& e) {
            found.push_back({Level::warn, "sentinel " + sentinel.text(), e.what()});
        }
    }
    if (votes.empty()) {
        found.push_back(
            {Level::fail, "master", "no Sentinel names a master '" + url.sentinel_master + "'"});
        return std::nullopt;
    }
    auto most = std::max_element(votes.begin(), votes.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    int sentinels = static_cast<int>(url.seeds().size());
    found.push_back({votes.size() == 1 && most->second == sentinels ? Level::ok : Level::warn,
                     "master",
                     most->first + ", named by " + std::to_string(most->second) + " of " +
                         std::to_string(sentinels) + " Sentinels" +
                         (votes.size() == 1 ? "" : " (they disagree: a failover under way?)") +
                         (replicas < 0 ? "" : "; " + std::to_string(replicas) + " replicas")});
    ConnectionSettings master = settings;
    master.url = url.at(named[most->first]);
    return master;
}

}  // namespace

Diagnosis diagnose_redis(const ConnectionSettings& given, const std::string& prefix,
                         const std::string& key) {
    Diagnosis found;
    ConnectionSettings settings = given;
    if (!given.url.sentinel_master.empty()) {
        std::optional<ConnectionSettings> master = sentinel_findings(given, found);
        if (!master) return found;
        settings = *master;
    }
    auto connect_started = Clock::now();
    RedisConnection connection = RedisConnection::open(settings, nullptr);
    found.push_back(
        {Level::ok, "reachable",
         connection.where() + ", connected in " + milliseconds(Clock::now() - connect_started)});
    found.push_back(round_trip(connection));
    auto server = info_fields(connection.call({"INFO", "server"}, Deadline::never()).text);
    found.push_back(server_version(server));
    if (field(server, "redis_mode") == "cluster") {
        for (Finding& f : cluster_findings(connection, prefix, key)) found.push_back(std::move(f));
    }
    found.push_back(replication(connection));
    found.push_back(maxmemory_policy(connection));
    found.push_back(persistence(connection));
    found.push_back(prefix_tag(prefix));
    return found;
}

}  // namespace lockrun
