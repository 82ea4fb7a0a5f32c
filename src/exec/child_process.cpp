#include "exec/child_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/errors.hpp"
#include "core/exit_code.hpp"
#include "exec/spawn_process.hpp"

namespace lockrun {

std::variant<ChildProcess, StartFailure> ChildProcess::spawn(const ChildStart& start) {
    SpawnPlan plan;
    // As posix_spawnp(3): found on lockrun's own PATH.
    plan.programs = program_candidates(start.argv.at(0), ::getenv("PATH"));
    plan.argv = start.argv;
    plan.environment = environment_with(start.extra_environment, start.removed_environment);
    plan.process_group = start.process_group;
    plan.dups.emplace_back(start.stdout_fd, STDOUT_FILENO);
    if (start.stderr_fd >= 0) plan.dups.emplace_back(start.stderr_fd, STDERR_FILENO);
    // Our descriptors are close-on-exec; those the command inherits lose the flag in its
    // descriptor table alone, so no other process of ours ever carries them.
    for (int fd : start.inherited_fds) plan.dups.emplace_back(fd, fd);
    plan.default_signals = {SIGPIPE};  // which lockrun ignores
    plan.mask = start.signal_mask;

    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    if (const pid_t* pid = std::get_if<pid_t>(&started)) {
        return ChildProcess(*pid, start.process_group == 0 ? *pid : start.process_group);
    }
    const auto [error, step] = std::get<SpawnFailure>(started);
    if (step != nullptr) {
        throw InternalError(std::string("cannot start the command: ") + step + ": " +
                            std::strerror(error));
    }
    if (error == ENOENT) {
        return StartFailure{StartFailure::Reason::not_found,
                            "cannot run '" + start.argv[0] + "': command not found"};
    }
    return StartFailure{StartFailure::Reason::not_executable,
                        "cannot run '" + start.argv[0] + "': " + std::strerror(error)};
}

ChildProcess::~ChildProcess() {
    if (pid_ < 0) return;
    ::kill(-group_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
}

void ChildProcess::signal_group(int signal_number) const {
    if (group_ <= 0) return;
    ::kill(-group_, signal_number);
    // A command stopped (by a read of the terminal from the background, SIGTTIN; by a
    // kill -STOP) acts on a signal meant to end it only once continued: Ctrl-C, or the
    // lock-loss SIGTERM, did nothing.
    if (signal_number == SIGINT || signal_number == SIGTERM || signal_number == SIGHUP ||
        signal_number == SIGQUIT) {
        ::kill(-group_, SIGCONT);
    }
}

ChildProcess::Change ChildProcess::try_reap() {
    if (pid_ < 0) return {};
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG | WUNTRACED);
    if (got != pid_) return {};
    if (WIFSTOPPED(status)) return {std::nullopt, WSTOPSIG(status)};
    pid_ = -1;
    if (WIFSIGNALED(status)) {
        return {Ending{exit_code::k_signal_base + WTERMSIG(status), WTERMSIG(status)}};
    }
    return {Ending{WEXITSTATUS(status), std::nullopt}};
}

}  // namespace lockrun
