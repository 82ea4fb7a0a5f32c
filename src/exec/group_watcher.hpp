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
//
// SPEC §5: a lockrun that is alive but does not act (kill -STOP, a debugger, a hang) keeps
// no lease either, and its command ran on past it while another run took the key. So
// lockrun-watcher also learns, through a pipe, when the lease will have run out, and stops
// the command then as lockrun would have (--on-lock-lost term or kill), unless lockrun has
// written a later time since (lease_ends_at). The forked watcher does not.

#include <sys/types.h>

#include <optional>
#include <utility>

#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

class GroupWatcher {
public:
    // How the watcher stops a command whose lease ran out: SIGTERM, then SIGKILL `kill_after`
    // later; a zero kill_after: SIGKILL at once. `at`: the lease's end as the run starts, in
    // the pipe before the watcher runs (no wake-up of it while the command starts).
    struct LeaseEnd {
        Millis kill_after;
        Clock::time_point at;
    };
    // Starts the watcher, which makes a new process group of its own; the command is to be
    // started in group(). With `lease_end`, it watches the lease too. Throws InternalError
    // when it cannot fork.
    static GroupWatcher start(std::optional<LeaseEnd> lease_end = std::nullopt);

    GroupWatcher(GroupWatcher&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)),
          stopped_(other.stopped_),
          lease_pipe_(std::move(other.lease_pipe_)),
          lease_end_(other.lease_end_) {}
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
    // When the lease will have run out, by our clock; nullopt: no such time (the lock is
    // not to be kept by the watcher: lost, or lockrun stopped the command itself). Written
    // only when it changes; nothing for a watcher started without a lease_end.
    void lease_ends_at(std::optional<Clock::time_point> at);

private:
    GroupWatcher(pid_t pid, UniqueFd lease_pipe) : pid_(pid), lease_pipe_(std::move(lease_pipe)) {}
    pid_t pid_ = -1;
    bool stopped_ = false;
    UniqueFd lease_pipe_;                         // our end; none for a watcher without a lease_end
    std::optional<Clock::time_point> lease_end_;  // the last written
};

}  // namespace lockrun
