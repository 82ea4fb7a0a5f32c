#include "exec/host_identity.hpp"

#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

std::string hostname() {
    char host[HOST_NAME_MAX + 1] = {};
    EXPECT_EQ(::gethostname(host, sizeof host - 1), 0);
    return host;
}

TEST(CurrentHolder, IsThisProcessOnThisHostWithItsUid) {
    HolderInfo me = current_holder({"make", "all"}, true);
    EXPECT_EQ(me.host, hostname());
    EXPECT_EQ(me.pid, ::getpid());
    EXPECT_EQ(me.user, std::to_string(::getuid()));
    EXPECT_EQ(me.command, "make all");
    EXPECT_GT(me.started_unix_ms, 0);
}

TEST(CurrentHolder, KeepsOnlyTheProgramWhenAskedTo) {
    EXPECT_EQ(current_holder({"curl", "-H", "Authorization: secret"}, false).command, "curl");
}

TEST(HolderWithUserName, NamesTheUidOfAHolderOnThisHost) {
    HolderInfo me = current_holder({"true"}, true);
    const passwd* entry = ::getpwuid(::getuid());
    ASSERT_NE(entry, nullptr) << "the test's own uid has no name here";
    EXPECT_EQ(holder_with_user_name(me).user, entry->pw_name);
}

TEST(HolderWithUserName, LeavesAnotherHostsUidAlone) {
    // Its uids may name other users than ours.
    HolderInfo other{"not-" + hostname(), 7, std::to_string(::getuid()), "true", 0};
    EXPECT_EQ(holder_with_user_name(other).user, std::to_string(::getuid()));
}

TEST(HolderWithUserName, LeavesANameOrAnUnknownUidAlone) {
    EXPECT_EQ(holder_with_user_name(HolderInfo{hostname(), 7, "ci", "", 0}).user, "ci");
    EXPECT_EQ(holder_with_user_name(HolderInfo{hostname(), 7, "4000000000", "", 0}).user,
              "4000000000");
    EXPECT_EQ(holder_with_user_name(HolderInfo{hostname(), 7, "99999999999", "", 0}).user,
              "99999999999");
}

}  // namespace
}  // namespace lockrun
