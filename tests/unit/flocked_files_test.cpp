// Reading /proc/locks (backend/local/flocked_files.hpp): held flocks count, waiting requests
// and other kinds of lock do not.

#include "backend/local/flocked_files.hpp"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

namespace lockrun {
namespace {

constexpr std::string_view k_proc_locks =
    "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF\n"
    "1: -> FLOCK  ADVISORY  WRITE 1240 fd:01:9999 0 EOF\n"
    "2: POSIX  ADVISORY  WRITE 99 08:02:4242 0 EOF\n"
    "3: OFDLCK ADVISORY  READ  -1 00:2a:77 0 EOF\n"
    "4: FLOCK  ADVISORY  READ  55 00:2a:12345678901 0 EOF\n"
    "garbage\n";

TEST(FlockedFiles, HeldFlocksAreListedByDeviceAndInode) {
    FlockedFiles flocked = FlockedFiles::parse(k_proc_locks);
    EXPECT_TRUE(flocked.contains(makedev(0xfd, 0x01), 5678));
    EXPECT_TRUE(flocked.contains(makedev(0, 0x2a), 12345678901ULL));
    EXPECT_FALSE(flocked.contains(makedev(0xfd, 0x02), 5678)) << "another device";
    EXPECT_FALSE(flocked.contains(makedev(0xfd, 0x01), 9999)) << "only waiting for it";
    EXPECT_FALSE(flocked.contains(makedev(8, 2), 4242)) << "a POSIX lock";
    EXPECT_FALSE(flocked.contains(makedev(0, 0x2a), 77)) << "an OFD lock";
}

}  // namespace
}  // namespace lockrun
