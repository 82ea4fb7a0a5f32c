#pragma once
// Requests and a clock shared by the local backend's own tests (local_backend_test,
// stale_keys_test): one holder, one lease, one cache TTL, so that the tests differ only in
// what they check.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/backend.hpp"

namespace lockrun::local_test {

inline std::uint64_t unix_now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

inline AcquireRequest request_for(const std::string& token) {
    AcquireRequest request;
    request.token = token;
    request.lease = Millis(30'000);
    request.holder = {"host-a", 4242, "alice", "make report", 1'700'000'000'000};
    return request;
}

inline FinishRequest finish_for(const std::string& token, std::uint64_t fence) {
    return {token, fence, std::nullopt, Millis(60'000), std::nullopt};
}

}  // namespace lockrun::local_test
