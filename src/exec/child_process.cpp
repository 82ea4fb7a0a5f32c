#include "exec/child_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/errors.hpp"
#include "core/exit_code.hpp"
#include "exec/spawn_settings.hpp"
#include "util/unique_fd.hpp"

extern char** environ;

namespace lockrun {
namespace {

bool names(std::string_view variable, std::string_view name) {
    return variable.starts_with(name) && variable.size() > name.size() &&
           variable[name.size()] == '=';
}

// environ without the removed variables, with the extra ones set (replacing any of the same
// name).
std::vector<std::string> build_environment(
    const std::vector<std::pair<std::string, std::string>>& extra,
    const std::vector<std::string>& removed) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string_view variable(*entry);
        bool dropped = false;
        for (const auto& [name, value] : extra) dropped = dropped || names(variable, name);
        for (const std::string& name : removed) dropped = dropped || names(variable, name);
        if (!dropped) environment.emplace_back(variable);
    }
    for (const auto& [name, value] : extra) environment.push_back(name + "=" + value);
    return environment;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (std::string& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers;
}

}  // namespace

std::variant<ChildProcess, StartFailure> ChildProcess::spawn(const ChildStart& start) {
    SpawnAttributes attributes;
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setpgroup(&attributes.attributes, start.process_group);
    posix_spawnattr_setsigmask(&attributes.attributes, &start.signal_mask);
    posix_spawnattr_setsigdefault(&attributes.attributes, &defaults);
    posix_spawnattr_setflags(&attributes.attributes, POSIX_SPAWN_SETPGROUP |
                                                         POSIX_SPAWN_SETSIGMASK |
                                                         POSIX_SPAWN_SETSIGDEF);

    SpawnFileActions file_actions;
    posix_spawn_file_actions_adddup2(&file_actions.actions, start.stdout_fd, STDOUT_FILENO);
    if (start.stderr_fd >= 0) {
        posix_spawn_file_actions_adddup2(&file_actions.actions, start.stderr_fd, STDERR_FILENO);
    }

    std::vector<std::string> argv = start.argv;
    std::vector<std::string> environment =
        build_environment(start.extra_environment, start.removed_environment);
    std::vector<char*> argv_pointers = pointers_to(argv);
    std::vector<char*> environment_pointers = pointers_to(environment);

    // Our descriptors are close-on-exec; those the command inherits are copies made for
    // this spawn alone, so no other process of ours ever carries them.
    std::vector<UniqueFd> inherited;
    for (int fd : start.inherited_fds) {
        inherited.emplace_back(::fcntl(fd, F_DUPFD, 3));
        if (!inherited.back().valid()) {
            throw InternalError(std::string("cannot pass the lock to the command: ") +
                                std::strerror(errno));
        }
    }
    pid_t pid = -1;
    int error =
        ::posix_spawnp(&pid, argv_pointers[0], &file_actions.actions, &attributes.attributes,
                       argv_pointers.data(), environment_pointers.data());
    if (error == ENOENT) {
        return StartFailure{StartFailure::Reason::not_found,
                            "cannot run '" + start.argv[0] + "': command not found"};
    }
    if (error != 0) {
        return StartFailure{StartFailure::Reason::not_executable,
                            "cannot run '" + start.argv[0] + "': " + std::strerror(error)};
    }
    return ChildProcess(pid, start.process_group == 0 ? pid : start.process_group);
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

std::optional<ChildProcess::Ending> ChildProcess::try_reap() {
    if (pid_ < 0) return std::nullopt;
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got != pid_) return std::nullopt;
    pid_ = -1;
    if (WIFSIGNALED(status)) {
        return Ending{exit_code::k_signal_base + WTERMSIG(status), WTERMSIG(status)};
    }
    return Ending{WEXITSTATUS(status), std::nullopt};
}

}  // namespace lockrun
