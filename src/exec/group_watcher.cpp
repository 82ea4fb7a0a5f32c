#include "exec/group_watcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "exec/companion_paths.hpp"
#include "exec/spawn_process.hpp"

namespace lockrun {
namespace {

constexpr const char* k_watcher_program = "lockrun-watcher";

// lockrun-watcher, started as posix_spawn(3) would start it: sharing our memory only until
// its execve, while we wait. It leads a new group, every signal blocked (a Ctrl-C, a
// forwarded SIGTERM or a lock-loss SIGTERM sent to the group is for the command, not for its
// watcher), and holds nothing of lockrun's: not the local lock's descriptor (the lock must
// follow the command's processes, not ours), not its sockets, not the ends of its pipes. Its
// exit costs the kernel a few pages, where a fork's copy of lockrun's memory cost ~0.1 ms of
// lockrun's wall time when lockrun stopped it; and the fork itself (lockrun's page tables
// copied, the child often run first on lockrun's CPU) cost more than waiting for this
// execve. Null when it cannot be started (not installed beside lockrun).
std::optional<pid_t> start_watcher_program(const std::vector<std::string>& programs,
                                           const std::string& parent_text) {
    if (programs.empty()) return std::nullopt;  // no /proc to say where lockrun is
    SpawnPlan plan;
    plan.programs = programs;
    plan.argv = {k_watcher_program, parent_text};
    plan.process_group = 0;
    plan.null_standard_streams = true;
    plan.close_other_descriptors = true;
    plan.parent_death_signal = SIGUSR1;  // stays set through execve; a death meanwhile pends
    ::sigfillset(&plan.mask);
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    if (const pid_t* pid = std::get_if<pid_t>(&started)) return *pid;
    return std::nullopt;
}

// Where lockrun-watcher is not there (a lockrun copied alone, or built where it is not), a
// fork of ours watches, set up as above, between fork and _exit: async-signal-safe calls only.
[[noreturn]] void watch_parent(pid_t parent) {
    // Lead the group the command will join (the parent sets it too, whichever runs first).
    ::setpgid(0, 0);
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(null_fd, STDOUT_FILENO);
        ::dup2(null_fd, STDERR_FILENO);
    }
    if (::close_range(3, ~0U, 0) != 0) {
        for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
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

GroupWatcher GroupWatcher::start() {
    const pid_t parent = ::getpid();
    if (std::optional<pid_t> pid = start_watcher_program(
            companion_paths(k_watcher_program).candidates, std::to_string(parent))) {
        return GroupWatcher(*pid);
    }
    pid_t pid = ::fork();
    if (pid < 0) throw InternalError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) watch_parent(parent);
    // The command joins the group right after this; it must exist by then.
    ::setpgid(pid, pid);
    return GroupWatcher(pid);
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
