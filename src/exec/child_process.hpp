#pragma once
// The command as a process of its own group (SPEC §4), owned: if lockrun unwinds before
// the command has been reaped, the whole group is killed and reaped, never left behind.

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/command_runner.hpp"

namespace lockrun {

struct ChildStart {
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> extra_environment;
    std::vector<std::string> removed_environment;  // names left out of the environment
    sigset_t signal_mask;                          // the mask lockrun started with
    int stdout_fd = -1;                            // becomes the command's stdout
    int stderr_fd = -1;                            // becomes its stderr; -1 keeps ours
    pid_t process_group = 0;         // the group to join; 0: a new one, led by the command
    std::vector<int> inherited_fds;  // descriptors the command keeps open (the local lock)
};

class ChildProcess {
public:
    // Starts the command in its process group, with SIGPIPE at its default, or says why it
    // could not (found nowhere, or not executable). Throws InternalError when a step before
    // its execve fails (joining the group, passing on the lock): not the command's fault.
    static std::variant<ChildProcess, StartFailure> spawn(const ChildStart& start);

    ChildProcess(ChildProcess&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), group_(std::exchange(other.group_, -1)) {}
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    pid_t group() const { return group_; }
    // Sends a signal to the command's whole process group, also after the command itself
    // has ended (its leftover children are still in it).
    void signal_group(int signal_number) const;
    // How the command ended, once it has; never blocks.
    struct Ending {
        int exit_status;            // 128+N for signal N
        std::optional<int> signal;  // N, when a signal killed it
    };
    // What became of the command since the last look: it ended, it stopped (with the
    // signal that stopped it), or neither. Never blocks.
    struct Change {
        std::optional<Ending> ending;
        int stopped_by = 0;
    };
    Change try_reap();

private:
    ChildProcess(pid_t pid, pid_t group) : pid_(pid), group_(group) {}
    pid_t pid_ = -1;  // -1 once reaped
    pid_t group_ = -1;
};

}  // namespace lockrun
