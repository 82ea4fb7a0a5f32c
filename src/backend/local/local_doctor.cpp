#include "backend/local/local_doctor.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/local/state_dir.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

Diagnosis diagnose_local(const std::string& state_dir) {
    using Level = Finding::Level;
    Diagnosis found;
    UniqueFd dir = open_state_dir(state_dir);
    found.push_back({Level::ok, "state dir", state_dir + " (mode 0700 or stricter, yours)"});

    UniqueFd probe(
        ::openat(dir.get(), "doctor.probe", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!probe.valid() || ::flock(probe.get(), LOCK_EX | LOCK_NB) != 0) {
        found.push_back({Level::fail, "flock",
                         std::string("cannot lock a file there: ") + std::strerror(errno)});
    } else {
        found.push_back({Level::ok, "flock", "works"});
    }
    ::unlinkat(dir.get(), "doctor.probe", 0);

    UniqueFd watch(::inotify_init1(IN_CLOEXEC));
    if (!watch.valid()) {
        found.push_back({Level::fail, "inotify",
                         std::string("unavailable (") + std::strerror(errno) +
                             "): waiters could not be woken"});
    } else {
        found.push_back({Level::ok, "inotify", "works"});
    }

    struct statfs info {};
    if (::fstatfs(dir.get(), &info) == 0 && info.f_type == TMPFS_MAGIC) {
        found.push_back({Level::ok, "persistence",
                         "tmpfs: cached results and fencing counters are forgotten at reboot"});
    } else {
        found.push_back({Level::ok, "persistence", "on disk"});
    }
    return found;
}

}  // namespace lockrun
