#pragma once
// The redis-server that scripts/test starts for the unit tests that need a real one.

#include <cstdlib>
#include <stdexcept>

#include "backend/redis/redis_connection.hpp"

namespace lockrun::fakes {

inline ConnectionSettings test_redis_server() {
    const char* url = std::getenv("LOCKRUN_TEST_REDIS_URL");
    if (url == nullptr) {
        throw std::runtime_error(
            "LOCKRUN_TEST_REDIS_URL is not set: run scripts/test, which starts a redis-server "
            "for these tests");
    }
    return ConnectionSettings{parse_redis_url(url), Millis(2000), Millis(2000), {}, {}};
}

}  // namespace lockrun::fakes
