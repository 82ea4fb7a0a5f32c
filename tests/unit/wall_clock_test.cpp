#include "util/wall_clock.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace lockrun {
namespace {

TEST(UnixNowMs, AgreesWithTime) {
    std::int64_t before = static_cast<std::int64_t>(std::time(nullptr)) * 1000;
    std::int64_t now = unix_now_ms();
    std::int64_t after = static_cast<std::int64_t>(std::time(nullptr)) * 1000 + 1000;
    EXPECT_GE(now, before);
    EXPECT_LT(now, after);
}

}  // namespace
}  // namespace lockrun
