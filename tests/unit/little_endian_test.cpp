#include "util/little_endian.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lockrun {
namespace {

TEST(LittleEndian, WritesTheLeastSignificantByteFirst) {
    std::string out;
    append_little_endian<std::uint32_t>(out, 0x04030201);
    append_little_endian<std::int16_t>(out, -2);
    append_little_endian<std::uint8_t>(out, 0xff);
    EXPECT_EQ(out, std::string("\x01\x02\x03\x04\xfe\xff\xff", 7));
}

TEST(LittleEndian, ReadsBackWhatItWrote) {
    std::string out;
    append_little_endian<std::int64_t>(out, -1234567890123);
    append_little_endian<std::uint64_t>(out, 0xfedcba9876543210);
    std::string_view rest = out;
    std::int64_t signed_value = 0;
    std::uint64_t unsigned_value = 0;
    ASSERT_TRUE(take_little_endian(rest, signed_value));
    ASSERT_TRUE(take_little_endian(rest, unsigned_value));
    EXPECT_EQ(signed_value, -1234567890123);
    EXPECT_EQ(unsigned_value, 0xfedcba9876543210u);
    EXPECT_TRUE(rest.empty());
}

TEST(LittleEndian, RefusesTooFewBytesAndLeavesThem) {
    std::string_view rest("\x01\x02\x03", 3);
    std::uint32_t value = 7;
    EXPECT_FALSE(take_little_endian(rest, value));
    EXPECT_EQ(value, 7u);
    EXPECT_EQ(rest.size(), 3u);
}

}  // namespace
}  // namespace lockrun
