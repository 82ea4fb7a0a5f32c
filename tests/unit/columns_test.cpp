#include "util/columns.hpp"

#include <gtest/gtest.h>

namespace lockrun {
namespace {

TEST(FitToColumns, LeavesAShortLineAlone) {
    EXPECT_EQ(fit_to_columns("lockrun: waiting", 80), "lockrun: waiting");
    EXPECT_EQ(fit_to_columns("", 80), "");
}

TEST(FitToColumns, KeepsTheLastColumnFree) {
    EXPECT_EQ(fit_to_columns("abcd", 5), "abcd");
    EXPECT_EQ(fit_to_columns("abcde", 5), "a...");
}

TEST(FitToColumns, CutsALongLineWithAnEllipsis) {
    std::string cut = fit_to_columns(std::string(200, 'x'), 40);
    EXPECT_EQ(cut.size(), 39u);
    EXPECT_EQ(cut.substr(36), "...");
}

TEST(FitToColumns, CountsCharactersNotBytesAndNeverSplitsOne) {
    // "é" is two bytes, one column.
    std::string accented;
    for (int i = 0; i < 30; ++i) accented += "\xc3\xa9";
    std::string cut = fit_to_columns(accented, 11);
    EXPECT_EQ(cut, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
    EXPECT_EQ(fit_to_columns(accented, 31), accented);
}

TEST(FitToColumns, ANarrowTerminalGetsWhatFits) {
    EXPECT_EQ(fit_to_columns("abcdef", 3), "ab");
    EXPECT_EQ(fit_to_columns("abcdef", 1), "");
    EXPECT_EQ(fit_to_columns("abcdef", 0), "");
}

}  // namespace
}  // namespace lockrun
