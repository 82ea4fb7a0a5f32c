#include "util/digest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

// Expected values from `printf '...' | sha256sum`.

TEST(Sha256Hex, HashesTheEmptyString) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Hex, MatchesTheFips180Vector) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Hex, HashesEmbeddedNulBytes) {
    EXPECT_EQ(sha256_hex(std::string("a\0b", 3)),
              "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
}

TEST(Sha256Hex, WritesSixtyFourLowerCaseHexDigits) {
    const std::string hex = sha256_hex(std::string(1 << 20, '\xff'));
    ASSERT_EQ(hex.size(), 64u);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// Expected values from `printf '...' | sha1sum`: the names Redis gives scripts (EVALSHA).

TEST(Sha1Hex, HashesTheEmptyString) {
    EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Sha1Hex, MatchesTheFips180Vector) {
    EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1Hex, MatchesWhatRedisCallsAScript) {
    // redis-cli SCRIPT LOAD "return 1" answers this name.
    EXPECT_EQ(sha1_hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace lockrun
