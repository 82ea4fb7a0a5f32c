#include "backend/redis/key_listing.hpp"

#include <gtest/gtest.h>

#include "backend/redis/redis_keys.hpp"
#include "util/digest.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

KeyStatus held_status() {
    KeyStatus status;
    status.holder = LockHeld{7, HolderInfo{"host1", 42, "ci", "make", 1}, 1000ms};
    return status;
}

// ---- scan_pattern ----

TEST(ScanPattern, APlainPrefixIsFollowedByTheOpeningBrace) {
    EXPECT_EQ(scan_pattern("lockrun:"), "lockrun:{*");
}

TEST(ScanPattern, GlobCharactersOfThePrefixAreEscaped) {
    EXPECT_EQ(scan_pattern("a*b?c[d]e\\f:"), "a\\*b\\?c\\[d\\]e\\\\f:{*");
}

TEST(ScanPattern, AnEmptyPrefix) {
    EXPECT_EQ(scan_pattern(""), "{*");
}

// ---- listable_name ----

TEST(ListableName, TheLockAndTheResultOfAKeyAreListable) {
    for (std::string suffix : {"lock", "out"}) {
        std::optional<ListableName> name =
            listable_name("lockrun:{report:1}:" + suffix, "lockrun:");
        ASSERT_TRUE(name.has_value()) << suffix;
        EXPECT_EQ(name->tag, "report:1");
        EXPECT_FALSE(name->hashed);
        EXPECT_EQ(name->base, "lockrun:{report:1}:");
    }
}

TEST(ListableName, TheNamesOfAHashedKeyAreListableAndSaySo) {
    std::string digest = sha256_hex("a{b}c");
    std::optional<ListableName> name = listable_name("p:{" + digest + "}:h:out", "p:");
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(name->tag, digest);
    EXPECT_TRUE(name->hashed);
    EXPECT_EQ(name->base, "p:{" + digest + "}:h:");
}

TEST(ListableName, TheFenceAndTheOtherKeysOfAKeyAreNot) {
    for (std::string name : {"lockrun:{report:1}:fence", "lockrun:{report:1}:last",
                             "lockrun:{report:1}:live", "lockrun:{report:1}:lock:x",
                             "lockrun:{report:1}:h:fence", "lockrun:{report:1}:h:h:lock"}) {
        EXPECT_FALSE(listable_name(name, "lockrun:").has_value()) << name;
    }
}

TEST(ListableName, NamesThatLockrunDoesNotMakeAreNot) {
    for (std::string name : {"lockrun:{}:lock", "lockrun:{abc:lock", "lockrun:abc:lock",
                             "other:{abc}:lock", "lockrun:sub:{abc}:lock", "lockrun:"}) {
        EXPECT_FALSE(listable_name(name, "lockrun:").has_value()) << name;
    }
}

TEST(ListableName, APrefixWithBracesIsTakenLiterally) {
    std::optional<ListableName> name = listable_name("a{b}:{k}:out", "a{b}:");
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(name->tag, "k");
}

TEST(ListableName, TheNamesLockrunMakesForAKeyGiveItBack) {
    for (std::string key : {"report:1", "a{b}c", "x}y", "ключ", "a:h:lock"}) {
        RedisKeyNames names = redis_key_names("p:", key);
        bool hashed = key.find_first_of("{}") != std::string::npos;
        for (const std::string& redis_key : {names.lock, names.out}) {
            std::optional<ListableName> name = listable_name(redis_key, "p:");
            ASSERT_TRUE(name.has_value()) << redis_key;
            EXPECT_EQ(name->tag, hashed ? sha256_hex(key) : key) << redis_key;
            EXPECT_EQ(name->hashed, hashed) << redis_key;
            EXPECT_EQ(name->base + "lock", names.lock) << redis_key;
            EXPECT_EQ(name->base + "out", names.out) << redis_key;
        }
        EXPECT_FALSE(listable_name(names.fence, "p:").has_value()) << key;
    }
}

// ---- listed_key ----

ListableName plain(const std::string& key) {
    return ListableName{"p:{" + key + "}:", key, false};
}
ListableName hashed(const std::string& key) {
    return ListableName{"p:{" + sha256_hex(key) + "}:h:", sha256_hex(key), true};
}

TEST(ListedKey, AKeyWithNeitherLockNorResultIsNotListed) {
    EXPECT_FALSE(listed_key(plain("report:1"), KeyStatus{}, std::nullopt).has_value());
}

TEST(ListedKey, APlainTagIsTheKey) {
    std::optional<ListedKey> listed = listed_key(plain("report:1"), held_status(), std::nullopt);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->key, "report:1");
    EXPECT_TRUE(listed->name_known);
    ASSERT_TRUE(listed->status.holder.has_value());
    EXPECT_EQ(listed->status.holder->fence, 7u);
}

TEST(ListedKey, APlainKeyThatLooksLikeADigestIsKnown) {
    std::string hex = sha256_hex("anything");
    std::optional<ListedKey> listed = listed_key(plain(hex), held_status(), std::nullopt);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->key, hex);
    EXPECT_TRUE(listed->name_known);
}

TEST(ListedKey, AHashedKeyIsNamedByTheKeyItsLockRecorded) {
    std::optional<ListedKey> listed = listed_key(hashed("a{b}c"), held_status(), "a{b}c");
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->key, "a{b}c");
    EXPECT_TRUE(listed->name_known);
}

TEST(ListedKey, AHashedKeyWithoutARecordedKeyIsItsDigestAndUnknown) {
    std::optional<ListedKey> listed = listed_key(hashed("a{b}c"), held_status(), std::nullopt);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->key, sha256_hex("a{b}c"));
    EXPECT_FALSE(listed->name_known);
}

TEST(ListedKey, ARecordedKeyOfOtherNamesIsNotBelieved) {
    for (std::string recorded : {"something{else}", "a-b-c"}) {
        std::optional<ListedKey> listed = listed_key(hashed("a{b}c"), held_status(), recorded);
        ASSERT_TRUE(listed.has_value());
        EXPECT_EQ(listed->key, sha256_hex("a{b}c")) << recorded;
        EXPECT_FALSE(listed->name_known) << recorded;
    }
    std::optional<ListedKey> listed = listed_key(plain("report:1"), held_status(), "report:2");
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->key, "report:1");
}

TEST(ListedKey, AStoredResultAloneIsListed) {
    KeyStatus status;
    status.stored = StoredResult{CachedResult{}, 1000ms, 10};
    std::optional<ListedKey> listed = listed_key(plain("report:1"), status, std::nullopt);
    ASSERT_TRUE(listed.has_value());
    EXPECT_FALSE(listed->status.holder.has_value());
    EXPECT_TRUE(listed->status.stored.has_value());
}

}  // namespace
}  // namespace lockrun
