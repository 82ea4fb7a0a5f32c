#include "exec/companion_paths.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace lockrun {

namespace {

// `dir` (absolute, as /proc/self/exe gives it: no "." or ".." in it) joined with `relative`,
// whose leading ".." components go up, as std::filesystem's lexically_normal() would make it.
std::string joined(std::string dir, std::string_view relative) {
    while (relative == ".." || relative.starts_with("../")) {
        std::size_t slash = dir.rfind('/');
        dir.erase(slash == std::string::npos ? 0 : slash);
        relative.remove_prefix(std::min<std::size_t>(3, relative.size()));
    }
    if (!relative.empty()) dir.append("/").append(relative);
    return dir;
}

}  // namespace

CompanionPaths companion_paths(std::string_view program) {
    CompanionPaths paths;
    // readlink(2), not std::filesystem: this is on every run's way to its command, and the
    // filesystem library's parsing of paths cost more there than the rest of the spawn.
    char self[PATH_MAX];
    ssize_t length = ::readlink("/proc/self/exe", self, sizeof self);
    if (length < 0 || static_cast<std::size_t>(length) >= sizeof self) {
        paths.error = length < 0 ? std::strerror(errno) : "its path is too long";
        return paths;
    }
    std::string dir(self, static_cast<std::size_t>(length));
    dir.erase(dir.rfind('/'));  // an absolute path: there is a slash
    paths.candidates = {joined(dir, program), joined(joined(dir, LOCKRUN_COMPANION_DIR), program)};
    return paths;
}

}  // namespace lockrun
