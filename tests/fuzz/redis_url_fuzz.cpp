// libFuzzer: the Redis URL parser either accepts or throws ConfigError, never anything
// else; an accepted URL's redacted form hides its password and names the same server.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "backend/redis/redis_url.hpp"
#include "core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    lockrun::RedisUrl url;
    try {
        url = lockrun::parse_redis_url(text);
    } catch (const lockrun::ConfigError&) {
        return 0;
    }
    lockrun::RedisUrl shown = lockrun::parse_redis_url(url.redacted());
    if (!url.password.empty() && shown.password != "***") std::abort();
    if (shown.host != url.host || shown.port != url.port || shown.db != url.db ||
        shown.socket_path != url.socket_path || shown.transport != url.transport ||
        shown.user != url.user) {
        std::abort();
    }
    return 0;
}
