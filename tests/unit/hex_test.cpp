#include "util/hex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

TEST(Hex, WritesTwoLowerCaseDigitsPerByte) {
    EXPECT_EQ(hex(""), "");
    EXPECT_EQ(hex(std::string("\x00\x0f\x10\xab\xff", 5)), "000f10abff");
}

TEST(HexUpper, WritesTwoUpperCaseDigitsPerByte) {
    EXPECT_EQ(hex_upper(std::string("\x00\x0f\x10\xab\xff", 5)), "000F10ABFF");
}

}  // namespace
}  // namespace lockrun
