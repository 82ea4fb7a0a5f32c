#include "exec/group_watcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "exec/companion_paths.hpp"
#include "exec/spawn_process.hpp"

namespace lockrun {
namespace {

constexpr const char* k_watcher_program = "lockrun-watcher";
// Where lockrun-watcher reads the lease's end (src/watcher/lockrun_watcher.cpp).
constexpr int k_watcher_lease_fd = 3;

// The watcher's set-up: it leads a new group, every signal blocked (a Ctrl-C, a forwarded
// SIGTERM or a lock-loss SIGTERM sent to the group is for the command, not for its watcher),
// SIGUSR1 as its parent-death signal, and it holds nothing of lockrun's: not the local lock's
// descriptor (the lock must follow the command's processes, not ours), not its sockets, not
// the ends of its pipes. Then lockrun-watcher, found at `programs`.
SpawnPlan watcher_plan(std::vector<std::string> programs, std::string parent_text) {
    SpawnPlan plan;
    plan.programs = std::move(programs);
    plan.argv = {k_watcher_program, std::move(parent_text)};
    plan.process_group = 0;
    plan.null_standard_streams = true;
    plan.close_other_descriptors = true;
    plan.parent_death_signal = SIGUSR1;  // stays set through execve; a death meanwhile pends
    ::sigfillset(&plan.mask);
    return plan;
}

// Where lockrun-watcher is not there (a lockrun copied alone, or built where it is not), a
// fork of ours watches, set up by the same plan, between fork and _exit: system calls only.
[[noreturn]] void watch_parent(pid_t parent, const SpawnPlan& plan) {
    SpawnFailure failure;
    (void)apply_plan_steps(plan, failure);  // as before: a step that fails is watched past
    // The parent's death is the one reason to act, and it is checked, not inferred from the
    // signal: the command may send SIGUSR1 to its own group (`kill -USR1 0`), which this
    // process is in. The parent may also have died before the request above took effect.
    sigset_t death;
    ::sigemptyset(&death);
    ::sigaddset(&death, SIGUSR1);
    while (::getppid() == parent) {
        ::sigwaitinfo(&death, nullptr);
    }
    ::kill(0, SIGKILL);  // the whole group, this process last
    ::_exit(0);
}

}  // namespace

GroupWatcher GroupWatcher::start(std::optional<LeaseEnd> lease_end) {
    const pid_t parent = ::getpid();
    SpawnPlan plan =
        watcher_plan(companion_paths(k_watcher_program).candidates, std::to_string(parent));
    // The lease's end, written by us, never blocking us: the watcher reads it at once.
    UniqueFd lease_read_end;
    UniqueFd lease_write_end;
    int ends[2];
    if (lease_end && !plan.programs.empty() && ::pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0) {
        lease_read_end.reset(ends[0]);
        lease_write_end.reset(ends[1]);
        plan.argv.push_back(std::to_string(lease_end->kill_after.count()));
        plan.dups.emplace_back(lease_read_end.get(), k_watcher_lease_fd);
    }
    GroupWatcher watcher(-1, std::move(lease_write_end));
    if (lease_end) watcher.lease_ends_at(lease_end->at);
    // lockrun-watcher, started as the command is: sharing our memory only until its execve,
    // while we wait. Its exit costs the kernel a few pages, where a fork's copy of lockrun's
    // memory cost ~0.1 ms of lockrun's wall time when lockrun stopped it; and the fork itself
    // (lockrun's page tables copied, the child often run first on lockrun's CPU) cost more
    // than waiting for this execve. (No candidates: no /proc to say where lockrun is.)
    if (!plan.programs.empty()) {
        std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
        if (const pid_t* pid = std::get_if<pid_t>(&started)) {
            watcher.pid_ = *pid;
            return watcher;
        }
    }
    // The forked watcher watches lockrun's death only (lease_ends_at does nothing).
    plan.argv.resize(2);
    plan.dups.clear();
    pid_t pid = ::fork();
    if (pid < 0) throw InternalError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) watch_parent(parent, plan);
    // The command joins the group right after this; it must exist by then.
    ::setpgid(pid, pid);
    return GroupWatcher(pid, UniqueFd());
}

void GroupWatcher::lease_ends_at(std::optional<Clock::time_point> at) {
    if (!lease_pipe_.valid() || at == lease_end_) return;
    lease_end_ = at;
    // CLOCK_MONOTONIC nanoseconds, as steady_clock counts them on Linux; 0: none.
    const std::uint64_t nanoseconds =
        at ? static_cast<std::uint64_t>(
                 std::chrono::duration_cast<std::chrono::nanoseconds>(at->time_since_epoch())
                     .count())
           : 0;
    // One write of 8 bytes is atomic on a pipe. A full pipe (the watcher gone, or 8192
    // times unread) keeps what it has: the watcher acts on the latest it read.
    (void)::write(lease_pipe_.get(), &nanoseconds, sizeof nanoseconds);
}

void GroupWatcher::stop() {
    if (pid_ < 0 || stopped_) return;
    ::kill(pid_, SIGKILL);
    stopped_ = true;
}

GroupWatcher::~GroupWatcher() {
    if (pid_ < 0) return;
    stop();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace lockrun
