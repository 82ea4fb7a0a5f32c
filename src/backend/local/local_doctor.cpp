#include "backend/local/local_doctor.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/local/stale_keys.hpp"
#include "backend/local/state_dir.hpp"
#include "util/unique_fd.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

// When the files of unused keys were last removed (stale_keys.hpp), from the marker.
std::string last_sweep(int dir_fd) {
    std::string rule = "files of keys unused for 7 days are removed, at most once a day; ";
    struct stat marker {};
    if (::fstatat(dir_fd, k_sweep_marker, &marker, AT_SYMLINK_NOFOLLOW) != 0) {
        return rule + "not swept yet";
    }
    auto hours = (unix_now_ms() - std::int64_t{marker.st_mtim.tv_sec} * 1000) / 3'600'000;
    return rule + "last sweep " + std::to_string(hours < 0 ? 0 : hours) + "h ago";
}

}  // namespace

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
                         "tmpfs: cached results are forgotten at reboot (fencing tokens restart "
                         "from the clock, so they still only increase)"});
    } else {
        found.push_back({Level::ok, "persistence", "on disk"});
    }

    found.push_back({Level::ok, "cleanup", last_sweep(dir.get())});
    return found;
}

}  // namespace lockrun
