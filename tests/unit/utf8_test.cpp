#include "util/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

TEST(Utf8SequenceLength, MeasuresEachWellFormedLength) {
    EXPECT_EQ(utf8_sequence_length("a"), 1u);
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9x"), 2u);         // é
    EXPECT_EQ(utf8_sequence_length("\xe2\x82\xac"), 3u);      // €
    EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80"), 4u);  // U+1F600
    EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF
    EXPECT_EQ(utf8_sequence_length(std::string_view("\0", 1)), 1u);
}

TEST(Utf8SequenceLength, RefusesWhatRfc3629Forbids) {
    EXPECT_EQ(utf8_sequence_length(""), 0u);
    EXPECT_EQ(utf8_sequence_length("\x80"), 0u);              // a lone continuation byte
    EXPECT_EQ(utf8_sequence_length("\xc3"), 0u);              // truncated
    EXPECT_EQ(utf8_sequence_length("\xc0\xaf"), 0u);          // overlong '/'
    EXPECT_EQ(utf8_sequence_length("\xe0\x80\xaf"), 0u);      // overlong, 3 bytes
    EXPECT_EQ(utf8_sequence_length("\xed\xa0\x80"), 0u);      // a surrogate
    EXPECT_EQ(utf8_sequence_length("\xf0\x80\x80\xaf"), 0u);  // overlong, 4 bytes
    EXPECT_EQ(utf8_sequence_length("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(utf8_sequence_length("\xf5\x80\x80\x80"), 0u);
}

TEST(IsControlCharacter, FindsC0DelAndC1) {
    EXPECT_TRUE(is_control_character(std::string_view("\0", 1)));
    EXPECT_TRUE(is_control_character("\x1b"));
    EXPECT_TRUE(is_control_character("\x7f"));
    EXPECT_TRUE(is_control_character("\xc2\x80"));
    EXPECT_TRUE(is_control_character("\xc2\x9f"));
    EXPECT_FALSE(is_control_character(" "));
    EXPECT_FALSE(is_control_character("~"));
    EXPECT_FALSE(is_control_character("\xc2\xa0"));      // no-break space
    EXPECT_FALSE(is_control_character("\xe2\x80\xa8"));  // line separator: printable here
}

TEST(IsValidUtf8, ChecksEverySequence) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac"));
    EXPECT_FALSE(is_valid_utf8("caf\xc3"));
    EXPECT_FALSE(is_valid_utf8("ok\xff"));
}

}  // namespace
}  // namespace lockrun
