#pragma once
// SPEC §4 signals. From construction on, SIGINT, SIGTERM, SIGHUP, SIGQUIT (those not
// ignored when lockrun started) and SIGCHLD are blocked and delivered through a signalfd,
// so that every wait of lockrun can poll for them and no handler runs at a random point
// (one runs only inside interruptible(), for a wait that poll(2) cannot watch).
// SIGPIPE is ignored: a reader that goes away must not kill lockrun while it holds a lock.

#include <signal.h>

#include <functional>
#include <optional>

#include "core/interrupt_source.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

class SignalWatch : public InterruptSource {
public:
    SignalWatch();
    ~SignalWatch() override;
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

    int fd() const override { return signal_fd_.get(); }
    // Throws Interrupted for a pending forwarded signal; SIGCHLD is dropped.
    void throw_if_interrupted() override;
    // Lets the forwarded signals through while `wait` runs: a handler that only makes the
    // signal pending again, blocked, ends the call, and the signalfd reads it as any other.
    void interruptible(const std::function<void()>& wait) override;

    // The next pending signal, or nullopt when none is.
    std::optional<int> take_signal();

    // What the command starts with: the mask lockrun was started with.
    const sigset_t& original_mask() const { return original_mask_; }

    // While a command runs, SIGTSTP (Ctrl-Z, kill -TSTP) is read from the signalfd too, so
    // that lockrun stops its command with itself (SPEC §4); while lockrun waits it stops
    // lockrun alone, as it always did. Not when it was ignored at the start.
    void watch_terminal_stop(bool watch);

private:
    UniqueFd signal_fd_;
    sigset_t original_mask_;
    sigset_t forwarded_;                      // the watched signals but SIGCHLD
    sigset_t watched_;                        // what the signalfd reads
    bool terminal_stop_watchable_ = false;    // SIGTSTP was neither ignored nor blocked
    bool keeps_pending_ = false;              // keep_pending() handles the forwarded signals
    struct sigaction original_actions_[4]{};  // of SIGINT, SIGTERM, SIGHUP, SIGQUIT
    struct sigaction original_sigpipe_;
};

}  // namespace lockrun
