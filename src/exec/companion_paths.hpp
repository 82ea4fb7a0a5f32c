#pragma once
// Where lockrun's companion programs are (lockrun-openssl, lockrun-watcher): beside this
// executable (a build tree), else in LOCKRUN_COMPANION_DIR (set by CMakeLists.txt) relative
// to its directory (an installed lockrun: ../libexec/lockrun).

#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

struct CompanionPaths {
    std::vector<std::string> candidates;  // to try in this order
    std::string error;  // why there are none: this executable's path cannot be read (no /proc)
};

CompanionPaths companion_paths(std::string_view program);

}  // namespace lockrun
