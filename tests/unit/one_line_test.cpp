#include "util/one_line.hpp"

#include <gtest/gtest.h>

namespace lockrun {
namespace {

TEST(OneLine, LeavesPlainTextAlone) {
    EXPECT_EQ(one_line("build-7.example"), "build-7.example");
    EXPECT_EQ(one_line(""), "");
}

TEST(OneLine, EscapesNewlinesAndC0Controls) {
    EXPECT_EQ(one_line("a\nb"), "a\\nb");
    EXPECT_EQ(one_line("a\r\nSET x y\r\n"), "a\\x0d\\nSET x y\\x0d\\n");
    EXPECT_EQ(one_line("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
    EXPECT_EQ(one_line(std::string_view("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(one_line("\x7f"), "\\x7f");
}

TEST(OneLine, EscapesC1ControlsWrittenAsUtf8) {
    // U+009B is CSI and U+009D is OSC on terminals that obey C1 controls.
    EXPECT_EQ(one_line("\xc2\x9b"
                       "31m"),
              "\\u009b31m");
    EXPECT_EQ(one_line("\xc2\x85"), "\\u0085");
    EXPECT_EQ(one_line("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
}

TEST(OneLine, EscapesBidirectionalFormattingCharacters) {
    EXPECT_EQ(one_line("host-\xE2\x80\xAE"
                       "1.example"),
              "host-\\u202e1.example");
    EXPECT_EQ(one_line("\xE2\x81\xA6\xE2\x81\xA9\xE2\x80\x8E\xD8\x9C"),
              "\\u2066\\u2069\\u200e\\u061c");
    EXPECT_EQ(one_line("\xE2\x80\x8D"), "\xE2\x80\x8D");  // U+200D, the zero-width joiner
}

TEST(OneLine, KeepsPrintableUtf8) {
    EXPECT_EQ(one_line("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(one_line("\xc2\xa0"), "\xc2\xa0");  // U+00A0, the first after C1
    EXPECT_EQ(one_line("\xe2\x82\xac"), "\xe2\x82\xac");
    EXPECT_EQ(one_line("\xf0\x9f\x94\x92"), "\xf0\x9f\x94\x92");
}

TEST(OneLine, EscapesBytesThatAreNotUtf8) {
    EXPECT_EQ(one_line("\x9b"
                       "31m"),
              "\\x9b31m");                                            // a raw 8-bit CSI
    EXPECT_EQ(one_line("\xc3"), "\\xc3");                             // cut short
    EXPECT_EQ(one_line("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
    EXPECT_EQ(one_line("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
    EXPECT_EQ(one_line("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

}  // namespace
}  // namespace lockrun
