#include "backend/local/flocked_files.hpp"

#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace lockrun {

FlockedFiles FlockedFiles::read_now() {
    std::ifstream locks("/proc/locks");
    std::stringstream text;
    text << locks.rdbuf();
    return parse(text.str());
}

// Its lines read "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF", the device as hex
// major:minor; a request that waits for a lock reads "1: -> FLOCK ..." and holds nothing.
FlockedFiles FlockedFiles::parse(std::string_view proc_locks) {
    FlockedFiles flocked;
    std::istringstream lines{std::string(proc_locks)};
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string number, kind, mode, access, pid, file;
        if (!(fields >> number >> kind) || kind != "FLOCK") continue;
        if (!(fields >> mode >> access >> pid >> file)) continue;
        unsigned major_number = 0, minor_number = 0;
        unsigned long long inode_number = 0;
        if (std::sscanf(file.c_str(), "%x:%x:%llu", &major_number, &minor_number, &inode_number) !=
            3) {
            continue;
        }
        flocked.files_.emplace(major_number, minor_number, inode_number);
    }
    return flocked;
}

bool FlockedFiles::contains(dev_t device, ino_t inode) const {
    return files_.count({major(device), minor(device), static_cast<unsigned long long>(inode)}) !=
           0;
}

}  // namespace lockrun
