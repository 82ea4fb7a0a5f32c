#include "util/duration.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

using namespace std::chrono_literals;

std::optional<Millis> finite(std::string_view text) {
    return parse_duration(text, false);
}

TEST(ParseDuration, ReadsEveryUnit) {
    EXPECT_EQ(finite("250ms"), 250ms);
    EXPECT_EQ(finite("30s"), 30s);
    EXPECT_EQ(finite("5m"), 5min);
    EXPECT_EQ(finite("2h"), 2h);
    EXPECT_EQ(finite("1d"), 24h);
}

TEST(ParseDuration, ReadsABareNumberAsSeconds) {
    EXPECT_EQ(finite("30"), 30s);
    EXPECT_EQ(finite("1.5"), 1500ms);
}

TEST(ParseDuration, ReadsZero) {
    EXPECT_EQ(finite("0"), 0ms);
    EXPECT_EQ(finite("0s"), 0ms);
    EXPECT_EQ(finite("0ms"), 0ms);
}

TEST(ParseDuration, ReadsLeadingZeros) {
    EXPECT_EQ(finite("007s"), 7s);
}

TEST(ParseDuration, ReadsDecimalFractions) {
    EXPECT_EQ(finite("1.5s"), 1500ms);
    EXPECT_EQ(finite("0.25m"), 15s);
    EXPECT_EQ(finite("1.5h"), 90min);
    EXPECT_EQ(finite("0.5d"), 12h);
}

TEST(ParseDuration, RoundsSubMillisecondRemaindersUp) {
    EXPECT_EQ(finite("0.0001s"), 1ms);
    EXPECT_EQ(finite("1.5ms"), 2ms);
    EXPECT_EQ(finite("0.1ms"), 1ms);
    EXPECT_EQ(finite("1.0001s"), 1001ms);
    EXPECT_EQ(finite("0.00000000000000000000000001d"), 1ms);
}

TEST(ParseDuration, KeepsExactFractionsExact) {
    EXPECT_EQ(finite("0.001s"), 1ms);
    EXPECT_EQ(finite("1.000s"), 1s);
    EXPECT_EQ(finite("2.0ms"), 2ms);
}

TEST(ParseDuration, ReadsCompoundsThatFormatDurationWrites) {
    EXPECT_EQ(finite("1m30s"), 90s);
    EXPECT_EQ(finite("1d2h3m4s5ms"), 24h + 2h + 3min + 4s + 5ms);
    EXPECT_EQ(finite("1m30.5s"), 90500ms);
}

TEST(ParseDuration, RejectsCompoundsOutOfOrderRepeatedOrWithAnEarlyFraction) {
    EXPECT_EQ(finite("30s1m"), std::nullopt);
    EXPECT_EQ(finite("1s1s"), std::nullopt);
    EXPECT_EQ(finite("1.5m30s"), std::nullopt);
    EXPECT_EQ(finite("1m30"), std::nullopt);
}

TEST(ParseDuration, ReadsInfOnlyWhereAllowed) {
    EXPECT_EQ(parse_duration("inf", true), k_infinite);
    EXPECT_EQ(parse_duration("inf", false), std::nullopt);
}

TEST(ParseDuration, RejectsOtherSpellingsOfInf) {
    EXPECT_EQ(parse_duration("Inf", true), std::nullopt);
    EXPECT_EQ(parse_duration("infinity", true), std::nullopt);
    EXPECT_EQ(parse_duration("infs", true), std::nullopt);
}

TEST(ParseDuration, RejectsEmpty) {
    EXPECT_EQ(parse_duration("", true), std::nullopt);
}

TEST(ParseDuration, RejectsSigns) {
    EXPECT_EQ(finite("-1"), std::nullopt);
    EXPECT_EQ(finite("-1s"), std::nullopt);
    EXPECT_EQ(finite("+1s"), std::nullopt);
    EXPECT_EQ(finite("-0s"), std::nullopt);
}

TEST(ParseDuration, RejectsUnknownUnits) {
    EXPECT_EQ(finite("1x"), std::nullopt);
    EXPECT_EQ(finite("1S"), std::nullopt);
    EXPECT_EQ(finite("1sec"), std::nullopt);
    EXPECT_EQ(finite("1us"), std::nullopt);
    EXPECT_EQ(finite("1e3"), std::nullopt);
}

TEST(ParseDuration, RejectsMalformedNumbers) {
    EXPECT_EQ(finite("1.2.3s"), std::nullopt);
    EXPECT_EQ(finite(".5s"), std::nullopt);
    EXPECT_EQ(finite("5.s"), std::nullopt);
    EXPECT_EQ(finite("s"), std::nullopt);
    EXPECT_EQ(finite("0x10s"), std::nullopt);
}

TEST(ParseDuration, RejectsWhitespace) {
    EXPECT_EQ(finite(" 5s"), std::nullopt);
    EXPECT_EQ(finite("5 s"), std::nullopt);
    EXPECT_EQ(finite("5s "), std::nullopt);
    EXPECT_EQ(finite("5s\n"), std::nullopt);
}

TEST(ParseDuration, RejectsValuesThatOverflowMillis) {
    EXPECT_EQ(finite("99999999999999999999d"), std::nullopt);
    EXPECT_EQ(finite("99999999999999999999"), std::nullopt);
    EXPECT_EQ(finite("106751991168d"), std::nullopt);
    EXPECT_EQ(finite("9223372036854775d"), std::nullopt);
}

TEST(ParseDuration, ReadsAHundredYearsAndNoMore) {
    EXPECT_EQ(finite("36525d"), k_longest_duration);
    EXPECT_EQ(finite("3155760000000ms"), k_longest_duration);
    EXPECT_EQ(finite("36525d1ms"), std::nullopt);
    EXPECT_EQ(finite("36526d"), std::nullopt);
    // The values that gave up at once, or lost the lock at once, in lockrun 0.1.
    EXPECT_EQ(finite("106752d"), std::nullopt);
    EXPECT_EQ(finite("200000d"), std::nullopt);
    EXPECT_EQ(parse_duration("106752d", true), std::nullopt);
}

TEST(ParseDuration, InfIsNotAHugeNumber) {
    EXPECT_EQ(finite("9223372036854775807ms"), std::nullopt);
    EXPECT_EQ(parse_duration("9223372036854775807ms", true), std::nullopt);
    EXPECT_EQ(finite("9223372036854775806ms"), std::nullopt);
}

TEST(ParseDuration, RejectsAFractionThatRoundsPastTheLimit) {
    EXPECT_EQ(finite("3155759999999.5ms"), k_longest_duration);
    EXPECT_EQ(finite("3155760000000.5ms"), std::nullopt);
}

TEST(FormatDuration, WritesOneUnitWhenExact) {
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(30s), "30s");
    EXPECT_EQ(format_duration(5min), "5m");
    EXPECT_EQ(format_duration(2h), "2h");
    EXPECT_EQ(format_duration(48h), "2d");
}

TEST(FormatDuration, WritesCompoundsLargestUnitFirst) {
    EXPECT_EQ(format_duration(90s), "1m30s");
    EXPECT_EQ(format_duration(1500ms), "1s500ms");
    EXPECT_EQ(format_duration(24h + 1ms), "1d1ms");
}

TEST(FormatDuration, WritesZeroAndInf) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(k_infinite), "inf");
}

TEST(FormatDuration, WritesNegativeDurationsWithASign) {
    EXPECT_EQ(format_duration(-1500ms), "-1s500ms");
    EXPECT_FALSE(format_duration(Millis::min()).empty());
}

TEST(FormatDuration, RoundTripsThroughParseDuration) {
    for (const Millis value :
         {0ms, 1ms, 999ms, 1000ms, 61001ms, Millis{86'400'000 * 3 + 7}, k_longest_duration}) {
        EXPECT_EQ(parse_duration(format_duration(value), false), value) << format_duration(value);
    }
    EXPECT_EQ(parse_duration(format_duration(k_infinite), true), k_infinite);
}

}  // namespace
}  // namespace lockrun
