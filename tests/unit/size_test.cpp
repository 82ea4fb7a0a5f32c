#include "util/size.hpp"

#include <gtest/gtest.h>

namespace lockrun {
namespace {

constexpr std::uint64_t k_u64_max = ~std::uint64_t{0};

TEST(ParseSize, ReadsABareNumberAsBytes) {
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("512"), 512u);
    EXPECT_EQ(parse_size("512B"), 512u);
}

TEST(ParseSize, ReadsBinaryUnits) {
    EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
    EXPECT_EQ(parse_size("16MiB"), 16u * 1024 * 1024);
    EXPECT_EQ(parse_size("1GiB"), 1024u * 1024 * 1024);
}

TEST(ParseSize, ReadsDecimalUnits) {
    EXPECT_EQ(parse_size("2kB"), 2'000u);
    EXPECT_EQ(parse_size("3MB"), 3'000'000u);
    EXPECT_EQ(parse_size("4GB"), 4'000'000'000u);
}

TEST(ParseSize, ReadsTheLargest64BitValue) {
    EXPECT_EQ(parse_size("18446744073709551615"), k_u64_max);
    EXPECT_EQ(parse_size("17179869183GiB"), 17179869183ull << 30);
}

TEST(ParseSize, RejectsEmpty) {
    EXPECT_EQ(parse_size(""), std::nullopt);
}

TEST(ParseSize, RejectsSigns) {
    EXPECT_EQ(parse_size("-1"), std::nullopt);
    EXPECT_EQ(parse_size("-1KiB"), std::nullopt);
    EXPECT_EQ(parse_size("+1"), std::nullopt);
}

TEST(ParseSize, RejectsUnknownOrMiscasedUnits) {
    EXPECT_EQ(parse_size("1x"), std::nullopt);
    EXPECT_EQ(parse_size("1KB"), std::nullopt);
    EXPECT_EQ(parse_size("1kiB"), std::nullopt);
    EXPECT_EQ(parse_size("1K"), std::nullopt);
    EXPECT_EQ(parse_size("1b"), std::nullopt);
    EXPECT_EQ(parse_size("1TiB"), std::nullopt);
    EXPECT_EQ(parse_size("KiB"), std::nullopt);
}

TEST(ParseSize, RejectsFractions) {
    EXPECT_EQ(parse_size("1.5MiB"), std::nullopt);
    EXPECT_EQ(parse_size("1.2.3KiB"), std::nullopt);
}

TEST(ParseSize, RejectsWhitespace) {
    EXPECT_EQ(parse_size(" 5"), std::nullopt);
    EXPECT_EQ(parse_size("5 KiB"), std::nullopt);
    EXPECT_EQ(parse_size("5KiB "), std::nullopt);
}

TEST(ParseSize, RejectsValuesThatOverflow64Bits) {
    EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
    EXPECT_EQ(parse_size("99999999999999999999"), std::nullopt);
    EXPECT_EQ(parse_size("17179869184GiB"), std::nullopt);
    EXPECT_EQ(parse_size("18446744073709552kB"), std::nullopt);
}

TEST(FormatSize, UsesTheLargestExactBinaryUnit) {
    EXPECT_EQ(format_size(64 * 1024), "64KiB");
    EXPECT_EQ(format_size(16 * 1024 * 1024), "16MiB");
    EXPECT_EQ(format_size(std::uint64_t{3} << 30), "3GiB");
    EXPECT_EQ(format_size(1536 * 1024), "1536KiB");
}

TEST(FormatSize, FallsBackToBytes) {
    EXPECT_EQ(format_size(0), "0B");
    EXPECT_EQ(format_size(512), "512B");
    EXPECT_EQ(format_size(1000), "1000B");
    EXPECT_EQ(format_size(k_u64_max), "18446744073709551615B");
}

TEST(FormatSize, RoundTripsThroughParseSize) {
    for (const std::uint64_t value :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1024}, std::uint64_t{1025},
          std::uint64_t{16} << 20, k_u64_max, k_u64_max & ~((std::uint64_t{1} << 30) - 1)}) {
        EXPECT_EQ(parse_size(format_size(value)), value) << format_size(value);
    }
}

}  // namespace
}  // namespace lockrun
