#pragma once
// Where a Redis server is and how to log in (SPEC §2 --redis):
//   redis://[user[:password]@]host[:port][/db]
//   rediss://...                      (TLS; same shape, default port 6379)
//   unix:///path/to/redis.sock[?db=N]  (also unix://user:password@/path.sock?db=N)
// IPv6 hosts in brackets: redis://[::1]:6380/2. User and password are percent-decoded.
// As with redis-cli, a userinfo without ':' is a password (of the default user):
// redis://SECRET@host; a named user whose password comes from elsewhere is "user:@".

#include <cstdint>
#include <string>
#include <string_view>

namespace lockrun {

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

    // The URL with the password replaced by "***", safe for any message or log line.
    std::string redacted() const;
};

// Throws ConfigError (core/errors.hpp) whose message names what is wrong, never the
// password: unknown scheme, empty host, port not 1-65535, db not a number 0-2147483647,
// unix path not absolute, a query parameter other than db, trailing garbage.
RedisUrl parse_redis_url(std::string_view text);

}  // namespace lockrun
