#include "core/key.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lockrun {
namespace {

TEST(KeyProblem, AcceptsPrintableAscii) {
    EXPECT_EQ(key_problem("report:2026-11-22"), std::nullopt);
    EXPECT_EQ(key_problem("a b ~!@#$%^&*()[]{}"), std::nullopt);
}

TEST(KeyProblem, AcceptsMultiByteUtf8) {
    EXPECT_EQ(key_problem("r\xC3\xA9sum\xC3\xA9"), std::nullopt);      // résumé
    EXPECT_EQ(key_problem("\xE6\x97\xA5\xE6\x9C\xAC"), std::nullopt);  // 日本
    EXPECT_EQ(key_problem("\xF0\x9F\x94\x92"), std::nullopt);          // U+1F512
    EXPECT_EQ(key_problem("\xC2\xA0"), std::nullopt);                  // U+00A0, after C1
    EXPECT_EQ(key_problem("\xEE\x80\x80\xEF\xBF\xBD"), std::nullopt);  // U+E000, U+FFFD
    EXPECT_EQ(key_problem("\xF4\x8F\xBF\xBF"), std::nullopt);          // U+10FFFF
}

TEST(KeyProblem, RejectsEmpty) {
    EXPECT_EQ(key_problem(""), "is empty");
}

TEST(KeyProblem, AcceptsExactly512Bytes) {
    EXPECT_EQ(key_problem(std::string(512, 'k')), std::nullopt);
}

TEST(KeyProblem, Rejects513Bytes) {
    EXPECT_EQ(key_problem(std::string(513, 'k')), "is longer than 512 bytes");
}

TEST(KeyProblem, CountsBytesNotCharacters) {
    std::string two_byte_chars;
    for (int i = 0; i < 256; ++i) two_byte_chars += "\xC3\xA9";
    EXPECT_EQ(key_problem(two_byte_chars), std::nullopt);
    EXPECT_EQ(key_problem(two_byte_chars + "a"), "is longer than 512 bytes");
}

TEST(KeyProblem, RejectsC0ControlsCountingBytesFromOne) {
    EXPECT_EQ(key_problem("a\tb"), "contains a control character at byte 2");
    EXPECT_EQ(key_problem("ab\n"), "contains a control character at byte 3");
    EXPECT_EQ(key_problem("\r"), "contains a control character at byte 1");
    EXPECT_EQ(key_problem("\x1b[31m"), "contains a control character at byte 1");
    EXPECT_EQ(key_problem(std::string("a\0b", 3)), "contains a control character at byte 2");
}

TEST(KeyProblem, RejectsDel) {
    EXPECT_EQ(key_problem("a\x7f"), "contains a control character at byte 2");
}

TEST(KeyProblem, RejectsC1ControlsEncodedAsUtf8) {
    EXPECT_EQ(key_problem("\xC2\x80"), "contains a control character at byte 1");    // U+0080
    EXPECT_EQ(key_problem("ab\xC2\x85"), "contains a control character at byte 3");  // NEL
    EXPECT_EQ(key_problem("\xC2\x9F"), "contains a control character at byte 1");    // U+009F
}

TEST(KeyProblem, RejectsBidirectionalFormattingCharacters) {
    // "report-\u202Egnp.exe" shows as "report-exe.png": another key than it is.
    const std::string why = "contains a bidirectional formatting character at byte ";
    const std::string shown = ", which makes it show as another key";
    EXPECT_EQ(key_problem("report-\xE2\x80\xAEgnp.exe"), why + "8" + shown);  // U+202E
    EXPECT_EQ(key_problem("\xE2\x80\xAA"), why + "1" + shown);                // U+202A
    EXPECT_EQ(key_problem("a\xE2\x81\xA6"
                          "b\xE2\x81\xA9"),
              why + "2" + shown);                                 // U+2066
    EXPECT_EQ(key_problem("ab\xE2\x80\x8F"), why + "3" + shown);  // U+200F
    EXPECT_EQ(key_problem("\xD8\x9C"), why + "1" + shown);        // U+061C
    // Neighbours that are not: U+2029, U+202F (narrow no-break space), U+2065, U+206A,
    // U+200D (the joiner of emoji sequences).
    for (const char* fine : {"\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\xA5", "\xE2\x81\xAA",
                             "\xE2\x80\x8D", "\xD8\x9B"}) {
        EXPECT_EQ(key_problem(fine), std::nullopt) << fine;
    }
}

TEST(KeyProblem, PointsAtTheByteAfterMultiByteCharacters) {
    EXPECT_EQ(key_problem("\xC3\xA9\xE6\x97\xA5\t"), "contains a control character at byte 6");
}

TEST(KeyProblem, RejectsStrayContinuationBytes) {
    EXPECT_EQ(key_problem("a\x80"), "is not valid UTF-8 at byte 2");
    EXPECT_EQ(key_problem("\xBF"), "is not valid UTF-8 at byte 1");
}

TEST(KeyProblem, RejectsBytesThatNeverAppearInUtf8) {
    EXPECT_EQ(key_problem("\xFF"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xFE"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xF5\x80\x80\x80"), "is not valid UTF-8 at byte 1");
}

TEST(KeyProblem, RejectsOverlongEncodings) {
    EXPECT_EQ(key_problem("\xC0\xAF"), "is not valid UTF-8 at byte 1");  // '/'
    EXPECT_EQ(key_problem("\xC1\xBF"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xC0\x80"), "is not valid UTF-8 at byte 1");  // NUL
    EXPECT_EQ(key_problem("\xE0\x80\xAF"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xE0\x9F\xBF"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xF0\x80\x80\xAF"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xF0\x8F\xBF\xBF"), "is not valid UTF-8 at byte 1");
}

TEST(KeyProblem, RejectsTruncatedSequences) {
    EXPECT_EQ(key_problem("ab\xC3"), "is not valid UTF-8 at byte 3");
    EXPECT_EQ(key_problem("\xE6\x97"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xF0\x9F\x94"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xE6\x97x"), "is not valid UTF-8 at byte 1");
    EXPECT_EQ(key_problem("\xC3x"), "is not valid UTF-8 at byte 1");
}

TEST(KeyProblem, RejectsUtf16Surrogates) {
    EXPECT_EQ(key_problem("\xED\xA0\x80"), "is not valid UTF-8 at byte 1");  // U+D800
    EXPECT_EQ(key_problem("\xED\xBF\xBF"), "is not valid UTF-8 at byte 1");  // U+DFFF
    EXPECT_EQ(key_problem("\xED\x9F\xBF"), std::nullopt);                    // U+D7FF
}

TEST(KeyProblem, RejectsCodePointsAboveU10FFFF) {
    EXPECT_EQ(key_problem("\xF4\x90\x80\x80"), "is not valid UTF-8 at byte 1");
}

TEST(KeyProblem, ChecksLengthBeforeContent) {
    EXPECT_EQ(key_problem(std::string(513, '\n')), "is longer than 512 bytes");
}

TEST(KeyFromCommand, HashesArgvJoinedWithNul) {
    // printf 'a\0b' | sha256sum
    EXPECT_EQ(key_from_command({"a", "b"}),
              "cmd:59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138");
}

TEST(KeyFromCommand, HashesTheShellArgvOfACommandString) {
    // printf '/bin/sh\0-c\0echo hi' | sha256sum
    EXPECT_EQ(key_from_command({"/bin/sh", "-c", "echo hi"}),
              "cmd:2f7ce7a103bf24bf1f1ebae74e30dfc736c20f47b0d46d51a064fcebe8e80847");
}

TEST(KeyFromCommand, TellsArgumentBoundariesApart) {
    EXPECT_NE(key_from_command({"a b"}), key_from_command({"a", "b"}));
    EXPECT_NE(key_from_command({"ab"}), key_from_command({"a", "b"}));
    EXPECT_NE(key_from_command({"a", ""}), key_from_command({"a"}));
}

TEST(KeyFromCommand, MakesAValidKey) {
    EXPECT_EQ(key_problem(key_from_command({"./make-report", "2026-11-22"})), std::nullopt);
}

}  // namespace
}  // namespace lockrun
