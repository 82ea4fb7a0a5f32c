#pragma once
// SPEC §4: a dead guard never leaves an unguarded run behind. When lockrun is killed
// without a chance to clean up (SIGKILL, the OOM killer, systemd's final SIGKILL), no code
// of ours runs, and a parent-death signal reaches only the direct child: `sh -c 'make'`
// would leave make running. So a small watcher process leads the command's process group
// from before the command starts; the kernel tells it when lockrun dies (PR_SET_PDEATHSIG),
// and it kills the whole group, itself included, at once. It is lockrun-watcher
// (src/watcher/, installed for x86-64 and arm64), which shares our memory only until its
// execve, and we start the command only after that: a process that kept sharing our memory
// would be killed with us by the OOM killer, which kills every process sharing its victim's
// memory. Where that program is not there, a fork of ours, with its own copy of our memory,
// watches by itself.

#include <sys/types.h>

#include <utility>

namespace lockrun {

class GroupWatcher {
public:
    // Starts the watcher, which makes a new process group of its own; the command is to be
    // started in group(). Throws InternalError when it cannot fork.
    static GroupWatcher start();

    GroupWatcher(GroupWatcher&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), stopped_(other.stopped_) {}
    GroupWatcher& operator=(GroupWatcher&&) = delete;
    GroupWatcher(const GroupWatcher&) = delete;
    // Lockrun is cleaning up by itself: the watcher is told to go (SIGKILL), and the group
    // (whatever of the command is left in it) is not touched. Its exit is not waited for
    // here: reaped by the destructor, later, it has long become a zombie, and the wait does
    // not sleep (about 50 µs a run less than waiting at once).
    void stop();
    // Stops the watcher if stop() was not called, and reaps it.
    ~GroupWatcher();

    pid_t group() const { return pid_; }

private:
    explicit GroupWatcher(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
    bool stopped_ = false;
};

}  // namespace lockrun
