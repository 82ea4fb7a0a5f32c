#include "exec/group_watcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "exec/companion_paths.hpp"

namespace lockrun {
namespace {

constexpr const char* k_watcher_program = "lockrun-watcher";

// The watcher's whole life, between fork and _exit: async-signal-safe calls only.
// `programs`: where lockrun-watcher may be, null-terminated; `parent_text`: `parent` as text.
[[noreturn]] void watch_parent(pid_t parent, const char* const* programs, const char* parent_text) {
    // Lead the group the command will join (the parent sets it too, whichever runs first).
    ::setpgid(0, 0);
    // Every signal stays pending but the parent's death: a Ctrl-C, a forwarded SIGTERM or
    // a lock-loss SIGTERM sent to the group is for the command, not for its watcher.
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    // Hold nothing of lockrun's: not the local lock's descriptor (the lock must follow the
    // command's processes, not ours), not its sockets, not the ends of its pipes.
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
    // lockrun-watcher takes over, which keeps all of the above through exec, and whose exit
    // costs the kernel a few pages where this copy of lockrun's memory cost ~0.1 ms of
    // lockrun's wall time when lockrun stopped it (src/watcher/lockrun_watcher.cpp). A death
    // signal that comes meanwhile stays pending through exec.
    char* const argv[] = {const_cast<char*>(k_watcher_program), const_cast<char*>(parent_text),
                          nullptr};
    char* const no_environment[] = {nullptr};
    for (const char* const* program = programs; *program != nullptr; ++program) {
        ::execve(*program, argv, no_environment);
    }
    // Not there (a lockrun copied alone, or built where it is not): this process watches.
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
    pid_t parent = ::getpid();
    // Made before the fork: the child calls nothing that allocates.
    const std::string parent_text = std::to_string(parent);
    const CompanionPaths paths = companion_paths(k_watcher_program);
    std::vector<const char*> programs;
    for (const std::string& candidate : paths.candidates) programs.push_back(candidate.c_str());
    programs.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw InternalError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) watch_parent(parent, programs.data(), parent_text.c_str());
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
