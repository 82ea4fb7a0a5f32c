#pragma once
// SPEC §2: stdin passes through to the command. The command runs in a process group of its
// own (SPEC §4), which the terminal takes for a background job: a command that reads the
// terminal (a prompt, `read`, sudo's password) or changes its modes (`stty -echo`) is
// stopped by the kernel (SIGTTIN, SIGTTOU), and sat stopped while lockrun waited for it.
// So lockrun does what a shell does for a job, when lockrun is itself the terminal's
// foreground job: it makes the command's group the terminal's foreground, from the start
// when the run was typed at a prompt (lockrun's stdin, stdout and stderr the terminal), else
// when the command stops for it, and lets it go on; when the command ends, or stops (Ctrl-Z
// reaches it then, not lockrun), the terminal comes back to lockrun's group. A run whose
// standard streams are not a terminal (cron, CI) is as it was: /dev/tty is opened only when
// the command is stopped for it, and Ctrl-C and Ctrl-Z reach lockrun first (SPEC §4).

#include <sys/types.h>

#include "util/unique_fd.hpp"

namespace lockrun {

class TerminalHandover {
public:
    TerminalHandover() = default;
    TerminalHandover(const TerminalHandover&) = delete;
    TerminalHandover& operator=(const TerminalHandover&) = delete;
    ~TerminalHandover() { take_back(); }

    // Whether lockrun has a controlling terminal.
    bool exists() { return open_terminal(); }
    // Whether lockrun's process group is the foreground job of its controlling terminal
    // (false without one).
    bool lockrun_in_foreground();
    // Makes `group` the terminal's foreground job. While it is, lockrun, then a background
    // job, blocks SIGTTOU: the output it relays to the terminal must not stop it (stty
    // tostop), nor must taking the terminal back.
    // False when it could not (no terminal).
    bool give_to(pid_t group);
    // The terminal back to lockrun's group, if `group` of give_to() still holds it (not if a
    // shell took it meanwhile); a no-op when it was never given.
    void take_back();
    // Whether `group` is the terminal's foreground job by give_to() (not if a shell has
    // taken the terminal since).
    bool held_by(pid_t group) const;

private:
    bool open_terminal();
    void block_terminal_output(bool block);

    UniqueFd terminal_;
    bool opened_ = false;
    pid_t given_to_ = -1;
    bool output_was_blocked_ = false;
};

}  // namespace lockrun
