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

TEST(CodePoint, DecodesEachLength) {
    EXPECT_EQ(code_point("a"), U'a');
    EXPECT_EQ(code_point("\xc3\xa9"), U'\u00e9');
    EXPECT_EQ(code_point("\xe2\x80\xae"), U'\u202e');
    EXPECT_EQ(code_point("\xf0\x9f\x98\x80"), U'\U0001f600');
    EXPECT_EQ(code_point("\xf4\x8f\xbf\xbf"), U'\U0010ffff');
}

TEST(IsBidiControl, NamesTheFormattingCharactersThatReorderALine) {
    for (char32_t c : {0x061cU, 0x200eU, 0x200fU, 0x202aU, 0x202bU, 0x202cU, 0x202dU, 0x202eU,
                       0x2066U, 0x2067U, 0x2068U, 0x2069U}) {
        std::string character = c < 0x800 ? std::string{static_cast<char>(0xc0 | (c >> 6)),
                                                        static_cast<char>(0x80 | (c & 0x3f))}
                                          : std::string{static_cast<char>(0xe0 | (c >> 12)),
                                                        static_cast<char>(0x80 | ((c >> 6) & 0x3f)),
                                                        static_cast<char>(0x80 | (c & 0x3f))};
        EXPECT_TRUE(is_bidi_control(character)) << std::hex << static_cast<unsigned>(c);
    }
    EXPECT_FALSE(is_bidi_control("a"));
    EXPECT_FALSE(is_bidi_control("\xe2\x80\x8d"));  // U+200D
    EXPECT_FALSE(is_bidi_control("\xe2\x80\xa9"));  // U+2029
    EXPECT_FALSE(is_bidi_control("\xe2\x81\xaa"));  // U+206A
    EXPECT_FALSE(is_bidi_control("\xf0\x9f\x98\x80"));
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
