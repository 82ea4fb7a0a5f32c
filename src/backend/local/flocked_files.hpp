#pragma once
// Which files some process holds a flock(2) on, as the kernel lists them in /proc/locks.
// Reading the list changes nothing, where trying the lock to see whether it is free would
// make a real caller fail in that instant: the operator commands (SPEC §7) look, never touch.

#include <sys/types.h>

#include <set>
#include <string_view>
#include <tuple>

namespace lockrun {

class FlockedFiles {
public:
    // The list as it is now; empty when /proc/locks cannot be read.
    static FlockedFiles read_now();
    // Parses the text of /proc/locks.
    static FlockedFiles parse(std::string_view proc_locks);

    bool contains(dev_t device, ino_t inode) const;

private:
    // (major, minor, inode) of each file with a FLOCK held on it.
    std::set<std::tuple<unsigned, unsigned, unsigned long long>> files_;
};

}  // namespace lockrun
