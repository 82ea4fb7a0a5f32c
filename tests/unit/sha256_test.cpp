#include "util/sha256.hpp"

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

}  // namespace
}  // namespace lockrun
