#include "backend/redis/cluster_redirect.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace lockrun {

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error,
                                                      std::string_view current_host) {
    ClusterRedirect redirect{};
    if (error.starts_with("MOVED ")) {
        redirect.kind = ClusterRedirect::Kind::moved;
    } else if (error.starts_with("ASK ")) {
        redirect.kind = ClusterRedirect::Kind::ask;
    } else {
        return std::nullopt;
    }
    // "<kind> <slot> <endpoint>:<port>": the endpoint is the last field.
    std::string_view rest = error.substr(error.find(' ') + 1);
    std::size_t space = rest.find(' ');
    if (space == std::string_view::npos || space == 0) return std::nullopt;
    std::string_view endpoint = rest.substr(space + 1);
    if (endpoint.find(' ') != std::string_view::npos) return std::nullopt;
    // The port follows the last ':', so that a bare IPv6 address keeps its own colons.
    std::size_t colon = endpoint.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = endpoint.substr(0, colon);
    std::string_view port_text = endpoint.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
        return std::nullopt;
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) host = current_host;  // "?" endpoints are not followed: see below
    if (host == "?") return std::nullopt;   // Redis's "unknown endpoint"
    redirect.node = RedisNode{std::string(host), static_cast<std::uint16_t>(port)};
    return redirect;
}

std::vector<RedisNode> parse_cluster_masters(std::string_view cluster_nodes,
                                             std::string_view current_host) {
    std::vector<RedisNode> masters;
    while (!cluster_nodes.empty()) {
        std::size_t end = std::min(cluster_nodes.find('\n'), cluster_nodes.size());
        std::string_view line = cluster_nodes.substr(0, end);
        cluster_nodes.remove_prefix(std::min(end + 1, cluster_nodes.size()));
        std::vector<std::string_view> fields;
        for (std::size_t start = 0; start < line.size();) {
            std::size_t space = std::min(line.find(' ', start), line.size());
            if (space > start) fields.push_back(line.substr(start, space - start));
            start = space + 1;
        }
        if (fields.size() < 3) continue;
        // Whole flags: "nofailover" and "fail?" (only suspected) are masters that serve.
        std::string flags = "," + std::string(fields[2]) + ",";
        auto flagged = [&](std::string_view flag) {
            return flags.find("," + std::string(flag) + ",") != std::string::npos;
        };
        if (!flagged("master") || flagged("fail") || flagged("noaddr") || flagged("handshake")) {
            continue;
        }
        // ip:port@cport[,hostname]: the address is what comes before '@'.
        std::string_view address = fields[1].substr(0, fields[1].find('@'));
        std::optional<ClusterRedirect> node =
            parse_cluster_redirect("MOVED 0 " + std::string(address), current_host);
        if (node) masters.push_back(node->node);
    }
    return masters;
}

bool is_cluster_retry_later(std::string_view error) {
    return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

}  // namespace lockrun
