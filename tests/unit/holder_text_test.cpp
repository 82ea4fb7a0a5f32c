#include "core/holder_text.hpp"

#include <gtest/gtest.h>

#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

HolderInfo build_7() {
    return HolderInfo{"build-7", 4242, "ci", "make all", 0};
}

TEST(HolderText, NamesThePidHostAndUser) {
    EXPECT_EQ(holder_text(build_7()), "pid 4242 on build-7 (user ci)");
}

TEST(HolderText, NamesAUserWrittenAsANumberAsAUid) {
    EXPECT_EQ(holder_text(HolderInfo{"build-7", 4242, "1001", "", 0}),
              "pid 4242 on build-7 (uid 1001)");
}

TEST(HolderText, LeavesOutWhatIsNotKnown) {
    EXPECT_EQ(holder_text(HolderInfo{"", 7, "", "", 0}), "pid 7");
}

TEST(HolderText, EscapesWhatTheBackendStored) {
    EXPECT_EQ(holder_text(HolderInfo{"evil\n\x1b[2J", 1, "a\nb", "", 0}),
              "pid 1 on evil\\n\\x1b[2J (user a\\nb)");
}

TEST(DescribeHolder, AddsTheCommandHowLongAndTheFence) {
    HolderInfo holder = build_7();
    holder.started_unix_ms = unix_now_ms() - 2'200;
    EXPECT_EQ(describe_holder(LockHeld{17, holder, Millis(1000)}),
              "pid 4242 on build-7 (user ci) running 'make all' for 3s, fence 17");
}

TEST(DescribeHolder, LeavesOutAnUnknownCommandAndStart) {
    EXPECT_EQ(describe_holder(LockHeld{0, HolderInfo{"h", 1, "", "", 0}, Millis(0)}),
              "pid 1 on h, fence 0");
}

}  // namespace
}  // namespace lockrun
