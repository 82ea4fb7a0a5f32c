#pragma once
// The error replies of a Redis Cluster node that send a request elsewhere (SPEC §8):
//   MOVED <slot> <endpoint>:<port>   the slot lives there now: go there from now on
//   ASK <slot> <endpoint>:<port>     during a migration: ask there once, after ASKING
//   TRYAGAIN ... / CLUSTERDOWN ...   not now: the same request again, a little later

#include <optional>
#include <string_view>
#include <vector>

#include "backend/redis/redis_url.hpp"

namespace lockrun {

struct ClusterRedirect {
    enum class Kind { moved, ask };
    Kind kind;
    RedisNode node;
};

// The redirect an error reply names; nullopt for any other reply. The endpoint may be an
// IPv4 address, an IPv6 address bare or in brackets, a host name, or empty (the node that
// answered: `current_host`). A reply that names no valid port is no redirect.
std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error,
                                                      std::string_view current_host);

// The masters that CLUSTER NODES lists (one node a line: id, ip:port@cport[,hostname],
// flags, ...), those that are failing or have no address left out; an empty ip is the node
// that answered (`current_host`).
std::vector<RedisNode> parse_cluster_masters(std::string_view cluster_nodes,
                                             std::string_view current_host);

// TRYAGAIN (a multi-key request while its keys are split by a migration) or CLUSTERDOWN
// (the cluster cannot serve the slot now, as during a failover).
bool is_cluster_retry_later(std::string_view error);

}  // namespace lockrun
