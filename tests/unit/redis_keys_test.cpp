#include "backend/redis/redis_keys.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

TEST(RedisKeyNames, PutsAPlainKeyInTheHashTag) {
    const RedisKeyNames names = redis_key_names("lockrun:", "report:1");
    EXPECT_EQ(names.lock, "lockrun:{report:1}:lock");
    EXPECT_EQ(names.fence, "lockrun:{report:1}:fence");
    EXPECT_EQ(names.out, "lockrun:{report:1}:out");
    EXPECT_EQ(names.last, "lockrun:{report:1}:last");
    EXPECT_EQ(names.released, "lockrun:{report:1}:released");
}

TEST(RedisKeyNames, UsesTheGivenPrefix) {
    EXPECT_EQ(redis_key_names("jobs:", "k").lock, "jobs:{k}:lock");
    EXPECT_EQ(redis_key_names("", "k").lock, "{k}:lock");
}

TEST(RedisKeyNames, HashesAKeyWithBraces) {
    // printf 'a{b}' | sha256sum
    const std::string tag = "b8a4b706093b9c712e002b1b283c048684d27813032ba14c3a07f3508e3321d6";
    const RedisKeyNames names = redis_key_names("lockrun:", "a{b}");
    EXPECT_EQ(names.lock, "lockrun:{" + tag + "}:h:lock");
    EXPECT_EQ(names.fence, "lockrun:{" + tag + "}:h:fence");
    EXPECT_EQ(names.out, "lockrun:{" + tag + "}:h:out");
    EXPECT_EQ(names.last, "lockrun:{" + tag + "}:h:last");
    EXPECT_EQ(names.released, "lockrun:{" + tag + "}:h:released");
}

TEST(RedisKeyNames, ABracedKeyAndItsHexDigestShareNoName) {
    const std::string hex = "b8a4b706093b9c712e002b1b283c048684d27813032ba14c3a07f3508e3321d6";
    const RedisKeyNames braced = redis_key_names("lockrun:", "a{b}");
    const RedisKeyNames digest = redis_key_names("lockrun:", hex);
    EXPECT_NE(braced.lock, digest.lock);
    EXPECT_NE(braced.fence, digest.fence);
    EXPECT_NE(braced.out, digest.out);
    EXPECT_NE(braced.last, digest.last);
    EXPECT_NE(braced.released, digest.released);
    // Still one slot: the same hash tag.
    EXPECT_EQ(braced.lock.substr(0, braced.lock.find('}')),
              digest.lock.substr(0, digest.lock.find('}')));
}

TEST(RedisKeyNames, HashesAKeyWithALoneBrace) {
    EXPECT_EQ(redis_key_names("p:", "x{").lock.size(), std::string("p:{}:h:lock").size() + 64);
    EXPECT_EQ(redis_key_names("p:", "}x").lock.size(), std::string("p:{}:h:lock").size() + 64);
}

}  // namespace
}  // namespace lockrun
