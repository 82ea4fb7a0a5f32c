#include "backend/redis/cluster_redirect.hpp"

#include <gtest/gtest.h>

namespace lockrun {
namespace {

using Kind = ClusterRedirect::Kind;

ClusterRedirect parsed(std::string_view error, std::string_view current = "seed.example") {
    auto redirect = parse_cluster_redirect(error, current);
    if (!redirect) throw std::runtime_error("no redirect in " + std::string(error));
    return *redirect;
}

TEST(ClusterRedirect, MovedToAnIpv4Address) {
    ClusterRedirect r = parsed("MOVED 3999 127.0.0.1:6381");
    EXPECT_EQ(r.kind, Kind::moved);
    EXPECT_EQ(r.node, (RedisNode{"127.0.0.1", 6381}));
}

TEST(ClusterRedirect, AskToAnIpv6AddressInBracketsOrBare) {
    ClusterRedirect r = parsed("ASK 3999 [::1]:6380");
    EXPECT_EQ(r.kind, Kind::ask);
    EXPECT_EQ(r.node, (RedisNode{"::1", 6380}));
    EXPECT_EQ(parsed("MOVED 1 2001:db8::7:7000").node, (RedisNode{"2001:db8::7", 7000}));
}

TEST(ClusterRedirect, ToAHostName) {
    EXPECT_EQ(parsed("MOVED 12182 redis-2.cache.example:6379").node,
              (RedisNode{"redis-2.cache.example", 6379}));
}

TEST(ClusterRedirect, AnEmptyEndpointIsTheNodeThatAnswered) {
    EXPECT_EQ(parsed("MOVED 3999 :6390", "10.0.0.5").node, (RedisNode{"10.0.0.5", 6390}));
}

TEST(ClusterRedirect, OtherRepliesAreNoRedirect) {
    for (const char* other : {"ERR unknown command", "MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1",
                              "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:x", "ASK 1 ?:6379",
                              "MOVED 1 a:1 extra", "NOSCRIPT x", "MOVEDX 1 h:1"}) {
        EXPECT_FALSE(parse_cluster_redirect(other, "seed")) << other;
    }
}

TEST(ClusterRedirect, TryAgainAndClusterDownAreRetriedLater) {
    EXPECT_TRUE(is_cluster_retry_later("TRYAGAIN Multiple keys request during rehashing of slot"));
    EXPECT_TRUE(is_cluster_retry_later("CLUSTERDOWN The cluster is down"));
    EXPECT_FALSE(is_cluster_retry_later("MOVED 1 h:1"));
    EXPECT_FALSE(is_cluster_retry_later("ERR x"));
}

TEST(ClusterMasters, AreTheMastersThatAreUp) {
    std::string nodes =
        "07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected\n"
        "67ed 127.0.0.1:30002@40002,node-2.example master - 0 1426238316232 2 connected "
        "5461-10922\n"
        "292f :30003@40003 myself,master - 0 0 3 connected 10923-16383\n"
        "6ec2 127.0.0.1:30005@40005 master,fail - 1426238316232 0 5 disconnected\n"
        "e7d1 [::1]:30001@40001 master - 0 1426238317741 1 connected 0-5460\n"
        "824f 2001:db8::1:30006@40006 master - 0 1 6 connected\n"
        "9a9a 127.0.0.1:30007@40007 master,nofailover - 0 1 8 connected 1-2\n"
        "9b9b 127.0.0.1:30008@40008 master,fail? - 0 1 9 connected 3-4\n"
        "aaaa :0@0 master,noaddr - 0 0 7 disconnected\n";
    EXPECT_EQ(parse_cluster_masters(nodes, "10.0.0.3"),
              (std::vector<RedisNode>{{"127.0.0.1", 30002},
                                      {"10.0.0.3", 30003},
                                      {"::1", 30001},
                                      {"2001:db8::1", 30006},
                                      {"127.0.0.1", 30007},
                                      {"127.0.0.1", 30008}}));
    EXPECT_TRUE(parse_cluster_masters("", "h").empty());
}

}  // namespace
}  // namespace lockrun
