#include "util/random_token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace lockrun {
namespace {

TEST(RandomToken, IsThirtyTwoLowerCaseHexDigits) {
    const std::string token = random_token();
    ASSERT_EQ(token.size(), 32u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(RandomToken, DiffersEveryTime) {
    // 128 random bits: a repeat among a thousand draws means the source is not random.
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) seen.insert(random_token());
    EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace lockrun
