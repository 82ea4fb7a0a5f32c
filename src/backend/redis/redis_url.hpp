#pragma once
// Where a Redis server is and how to log in (SPEC §2 --redis):
//   redis://[user[:password]@]host[:port][,host2[:port]...][/db]
//   rediss://...                      (TLS; same shape, default port 6379)
// More than one host: seeds of a Redis Cluster (SPEC §8), tried in turn.
//   redis+sentinel://[user[:password]@]s1[:port][,s2[:port]...]/MASTER[/db]
//   rediss+sentinel://...             (SPEC §8: the hosts are Sentinels, default port 26379;
//                                      user and password are the master's)
//   unix:///path/to/redis.sock[?db=N]  (also unix://user:password@/path.sock?db=N)
// IPv6 hosts in brackets: redis://[::1]:6380/2. User and password are percent-decoded.
// As with redis-cli, a userinfo without ':' is a password (of the default user):
// redis://SECRET@host; a named user whose password comes from elsewhere is "user:@".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

// One server's address: a host name or address (IPv6 without brackets) and a port.
struct RedisNode {
    std::string host;
    std::uint16_t port = 6379;
    bool operator==(const RedisNode&) const = default;
    // host:port, or [v6]:port.
    std::string text() const;
};

struct RedisUrl {
    enum class Transport { tcp, tls, unix_socket };
    Transport transport = Transport::tcp;
    std::string host;  // tcp/tls: host name or address, without brackets
    std::uint16_t port = 6379;
    std::string socket_path;  // unix_socket
    int db = 0;
    std::string user;      // empty: the default user
    std::string password;  // empty: no AUTH
    // The URL said "SECRET@" (no ':'): redacted() writes "***@", the form that reads back as
    // a password; else a password without user is ":***@".
    bool password_without_colon = false;
    // The hosts after the first: more seeds of a Redis Cluster, in the order given (or more
    // Sentinels).
    std::vector<RedisNode> more_seeds;
    // redis+sentinel://: the name of the master the Sentinels watch; the hosts are theirs.
    std::string sentinel_master;

    // The URL with the password replaced by "***", safe for any message or log line.
    std::string redacted() const;
    // Every seed: (host, port) first, then more_seeds.
    std::vector<RedisNode> seeds() const;
    // This URL for one node only: the same scheme, credentials and db (a data node: no
    // Sentinel master).
    RedisUrl at(const RedisNode& node) const;
};

// Throws ConfigError (core/errors.hpp) whose message names what is wrong, never the
// password: unknown scheme, empty host, port not 1-65535, db not a number 0-2147483647,
// unix path not absolute, a query parameter other than db, trailing garbage.
RedisUrl parse_redis_url(std::string_view text);

}  // namespace lockrun
