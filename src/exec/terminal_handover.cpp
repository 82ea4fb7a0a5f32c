#include "exec/terminal_handover.hpp"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

namespace lockrun {

bool TerminalHandover::open_terminal() {
    if (!opened_) {
        opened_ = true;
        // O_NOCTTY: a lockrun without a controlling terminal must not acquire this one.
        terminal_.reset(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    }
    return terminal_.valid();
}

bool TerminalHandover::lockrun_in_foreground() {
    return open_terminal() && ::tcgetpgrp(terminal_.get()) == ::getpgrp();
}

bool TerminalHandover::give_to(pid_t group) {
    if (!open_terminal() || group <= 0) return false;
    if (given_to_ < 0) block_terminal_output(true);
    if (::tcsetpgrp(terminal_.get(), group) == 0) {
        given_to_ = group;
        return true;
    }
    if (given_to_ < 0) block_terminal_output(false);
    return false;
}

bool TerminalHandover::held_by(pid_t group) const {
    return given_to_ > 0 && given_to_ == group && ::tcgetpgrp(terminal_.get()) == group;
}

void TerminalHandover::take_back() {
    if (given_to_ < 0) return;
    if (::tcgetpgrp(terminal_.get()) == given_to_) ::tcsetpgrp(terminal_.get(), ::getpgrp());
    given_to_ = -1;
    block_terminal_output(false);
}

// Only SIGTTOU, and unblocked only if it was not blocked before: the rest of the mask is
// SignalWatch's, which may change it meanwhile.
void TerminalHandover::block_terminal_output(bool block) {
    sigset_t terminal_output;
    ::sigemptyset(&terminal_output);
    ::sigaddset(&terminal_output, SIGTTOU);
    if (block) {
        sigset_t before;
        ::sigprocmask(SIG_BLOCK, &terminal_output, &before);
        output_was_blocked_ = ::sigismember(&before, SIGTTOU) == 1;
    } else if (!output_was_blocked_) {
        ::sigprocmask(SIG_UNBLOCK, &terminal_output, nullptr);
    }
}

}  // namespace lockrun
