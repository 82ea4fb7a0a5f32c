#include "exec/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <variant>
#include <vector>

#include "core/errors.hpp"
#include "exec/capture.hpp"
#include "exec/child_process.hpp"
#include "exec/group_watcher.hpp"
#include "exec/output_relay.hpp"
#include "exec/terminal_handover.hpp"

namespace lockrun {
namespace {

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw InternalError(std::string("pipe: ") + std::strerror(errno));
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Collects poll(2) entries and remembers which slot belongs to which source.
class PollSet {
public:
    int add(int fd, short events) {
        if (fd < 0) return -1;
        fds_.push_back({fd, events, 0});
        return static_cast<int>(fds_.size()) - 1;
    }
    bool ready(int slot) const { return slot >= 0 && fds_[slot].revents != 0; }
    void wait(Deadline deadline) {
        int rc = ::poll(fds_.data(), fds_.size(), deadline.poll_timeout_ms());
        if (rc < 0 && errno != EINTR) {
            throw InternalError(std::string("poll: ") + std::strerror(errno));
        }
    }

private:
    std::vector<pollfd> fds_;
};

// Starts the command in `group`, its output into the pipes; a command that cannot be
// started is reported (why, as a StartFailure) and nullopt returned.
std::optional<ChildProcess> start_command(const CommandSpec& command, const SignalWatch& signals,
                                          const Pipe& stdout_pipe,
                                          const std::optional<Pipe>& stderr_pipe, pid_t group,
                                          RunReport& report) {
    auto started = ChildProcess::spawn(
        {command.argv, command.extra_environment, command.removed_environment,
         signals.original_mask(), stdout_pipe.write_end.get(),
         stderr_pipe ? stderr_pipe->write_end.get() : -1, group, command.inherited_fds});
    if (auto* failure = std::get_if<StartFailure>(&started)) {
        report.start_failure = std::move(*failure);
        return std::nullopt;
    }
    return std::move(std::get<ChildProcess>(started));
}

// Our ends of the started command's pipes, as relays. The write ends are dropped here: once
// only the command holds them, its exit (and its children's) ends the output.
std::vector<OutputRelay> relay_output(Pipe stdout_pipe, std::optional<Pipe> stderr_pipe,
                                      OutputTap& tap) {
    std::vector<OutputRelay> relays;
    relays.emplace_back(std::move(stdout_pipe.read_end), STDOUT_FILENO, OutputStream::stdout_stream,
                        tap);
    if (stderr_pipe) {
        relays.emplace_back(std::move(stderr_pipe->read_end), STDERR_FILENO,
                            OutputStream::stderr_stream, tap);
    }
    return relays;
}

// SIGTSTP read from the signalfd while it lives (SignalWatch::watch_terminal_stop).
class TerminalStopWatch {
public:
    explicit TerminalStopWatch(SignalWatch& signals) : signals_(signals) {
        signals_.watch_terminal_stop(true);
    }
    ~TerminalStopWatch() { signals_.watch_terminal_stop(false); }
    TerminalStopWatch(const TerminalStopWatch&) = delete;
    TerminalStopWatch& operator=(const TerminalStopWatch&) = delete;

private:
    SignalWatch& signals_;
};

// The started command, its output, the signals and the lease: each tick waits once for
// whichever is ready first, or for the earliest deadline, and lets each act.
class RunLoop {
public:
    RunLoop(ChildProcess& child, GroupWatcher& watcher, std::vector<OutputRelay> relays,
            SignalWatch& signals, LeaseKeeper& lease, const RunPolicy& policy, RunReport& report)
        : child_(child),
          watcher_(watcher),
          relays_(std::move(relays)),
          signals_(signals),
          lease_(lease),
          policy_(policy),
          report_(report) {
        tell_watcher_the_lease_end();
    }

    bool finished() const { return ending_ && relays_done_; }

    // A run typed at a shell prompt (lockrun the terminal's foreground job, its standard
    // streams that terminal): the command gets the terminal from its start, as the shell's
    // job would, so that a process it starts can read it too (sudo's password), where
    // lockrun sees only the command's own stops. Not in a pipeline (`lockrun ... | less`):
    // the other end may need the terminal; there the command gets it when it stops for it.
    void give_terminal_to_an_interactive_command() {
        if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1 ||
            ::isatty(STDERR_FILENO) != 1 || !terminal_.lockrun_in_foreground()) {
            return;
        }
        command_gets_terminal_ = true;
        terminal_.give_to(child_.group());
    }
    const ChildProcess::Ending& ending() const { return *ending_; }
    bool output_cut() const { return std::ranges::any_of(relays_, &OutputRelay::cut); }
    std::optional<std::string> output_failure() const {
        for (const OutputRelay& relay : relays_) {
            if (relay.failure()) return relay.failure();
        }
        return std::nullopt;
    }

    void wait() {
        poll_set_ = PollSet();
        signal_slot_ = poll_set_.add(signals_.fd(), POLLIN);
        lease_slot_ = poll_set_.add(lease_.poll_fd(), POLLIN);
        live_slot_ = policy_.live && policy_.live->poll_events() != 0
                         ? poll_set_.add(policy_.live->poll_fd(), policy_.live->poll_events())
                         : -1;
        relay_slots_.clear();
        for (OutputRelay& relay : relays_) {
            relay_slots_.emplace_back(
                relay.wants_read() ? poll_set_.add(relay.source_fd(), POLLIN) : -1,
                relay.wants_write() ? poll_set_.add(relay.destination_fd(), POLLOUT) : -1);
        }
        Deadline live_wakeup = policy_.live ? policy_.live->next_wakeup() : Deadline::never();
        poll_set_.wait(earliest(earliest(lease_.next_wakeup(), kill_deadline_),
                                earliest(drain_deadline_, live_wakeup)));
    }

    void forward_signals() {
        if (!poll_set_.ready(signal_slot_)) return;
        while (std::optional<int> signal_number = signals_.take_signal()) {
            if (*signal_number == SIGCHLD) {
                child_may_have_ended_ = true;
                continue;
            }
            if (*signal_number == SIGTSTP) {
                stop_with_command();
                continue;
            }
            child_.signal_group(*signal_number);
            report_.forwarded_signal = *signal_number;
        }
    }

    void reap_child() {
        // Only after a SIGCHLD: a waitpid(2) on every tick was one syscall per read of a
        // streaming command's output.
        if (ending_ || !child_may_have_ended_) return;
        child_may_have_ended_ = false;
        ChildProcess::Change change = child_.try_reap();
        if (change.stopped_by != 0) {
            on_command_stopped(change.stopped_by);
            return;
        }
        ending_ = change.ending;
        if (!ending_) return;
        // Ctrl-C and Ctrl-\ went to the command's group, not to lockrun: a run they ended
        // is one the user cut short, as when lockrun forwards them (SPEC §4).
        if (ending_->signal && (*ending_->signal == SIGINT || *ending_->signal == SIGQUIT) &&
            terminal_.held_by(child_.group()) && !report_.forwarded_signal) {
            report_.forwarded_signal = *ending_->signal;
        }
        terminal_.take_back();
        for (OutputRelay& relay : relays_) relay.command_ended();
        drain_deadline_ = Deadline::after(k_output_drain);
        report_.ended_in_lease = lease_.valid_now();
    }

    void keep_lease() {
        bool was_lost = lease_.lost();
        if (poll_set_.ready(lease_slot_) || lease_.next_wakeup().passed()) lease_.on_wakeup();
        if (lease_.lost() && !was_lost) {
            report_.lock_lost = lease_.loss_reason();
            if (!ending_ && policy_.on_lock_lost != OnLockLost::ignore) stop_for_lock_loss();
        }
        if (kill_deadline_.passed()) {
            if (!ending_) child_.signal_group(SIGKILL);
            kill_deadline_ = Deadline::never();
        }
        // After the lease was looked at: a lock lost while we were stopped has its SIGTERM
        // (above) sent before the command is let go on.
        if (resume_command_) {
            resume_command_ = false;
            watcher_may_stop_the_command_ = true;
            if (!ending_) {
                if (command_gets_terminal_ && terminal_.lockrun_in_foreground()) {
                    terminal_.give_to(child_.group());
                }
                child_.signal_group(SIGCONT);
            }
        }
        tell_watcher_the_lease_end();
    }

    void pump_output() {
        if (poll_set_.ready(live_slot_) || (policy_.live && policy_.live->next_wakeup().passed())) {
            policy_.live->on_ready();
        }
        for (std::size_t i = 0; i < relays_.size(); ++i) {
            if (poll_set_.ready(relay_slots_[i].first)) relays_[i].read_source();
            if (poll_set_.ready(relay_slots_[i].second)) relays_[i].write_destination();
        }
        // What the command wrote before it exited is relayed whole, at the reader's pace
        // (a slow reader once lost what was still in the pipe); only what its leftover
        // children write after the drain is dropped.
        if (drain_deadline_.passed()) {
            for (OutputRelay& relay : relays_) relay.stop_after_owed();
            drain_deadline_ = Deadline::never();
        }
        relays_done_ = std::ranges::all_of(relays_, &OutputRelay::done);
    }

private:
    // Ctrl-Z: the command stops with lockrun, as it would in lockrun's own process group. A
    // guard stopped while its command ran on would let another run overlap it once the
    // lease ran out. Continued (fg, bg, kill -CONT), lockrun lets the command go on only
    // after keep_lease() has looked at the lease: the clock may say it ran out meanwhile.
    // `stop_signal` is what lockrun's parent sees (a shell: "Stopped (tty input)" for
    // SIGTTIN); SIGSTOP where lockrun ignores it. The whole group is stopped with SIGSTOP,
    // which none of its processes can catch.
    void stop_with_command(int stop_signal = SIGSTOP) {
        // Stopped, the command cannot overlap another run: continued, we look at the lease
        // before it goes on. The watcher is not to end it meanwhile.
        watcher_may_stop_the_command_ = false;
        tell_watcher_the_lease_end();
        if (!ending_) child_.signal_group(SIGSTOP);
        terminal_.take_back();  // given again once continued in the foreground
        if (!stops_lockrun(stop_signal)) stop_signal = SIGSTOP;
        ::raise(stop_signal);
        resume_command_ = true;
    }

    // Whether `stop_signal` raised would stop lockrun: at its default, and not blocked.
    static bool stops_lockrun(int stop_signal) {
        struct sigaction action {};
        sigset_t blocked;
        ::sigprocmask(SIG_BLOCK, nullptr, &blocked);
        return stop_signal == SIGSTOP ||
               (::sigaction(stop_signal, nullptr, &action) == 0 && action.sa_handler == SIG_DFL &&
                ::sigismember(&blocked, stop_signal) == 0);
    }

    // terminal_handover.hpp. A command that stopped while its group held the terminal was
    // stopped by Ctrl-Z, which reaches it now, not lockrun: lockrun stops with it, as for a
    // Ctrl-Z of its own, the terminal back in lockrun's group for the shell. One stopped
    // for reading or setting the terminal from the background gets it when lockrun is the
    // foreground job (it may have read before it got it); when lockrun is in the background
    // itself, lockrun stops as the command did, for the shell (or a lockrun around this
    // one) to bring it to the foreground, and the command gets the terminal once continued
    // there. Any other stop is someone's kill -STOP: the command stays as it was left.
    void on_command_stopped(int stop_signal) {
        const bool for_the_terminal = stop_signal == SIGTTIN || stop_signal == SIGTTOU;
        const bool holds_terminal = terminal_.held_by(child_.group());
        if (holds_terminal && !for_the_terminal) {
            stop_with_command(SIGSTOP);
        } else if (for_the_terminal) {
            command_gets_terminal_ = true;
            if (holds_terminal || terminal_.lockrun_in_foreground()) {
                // Continued only with the terminal: else it would stop again at once.
                if (terminal_.give_to(child_.group())) child_.signal_group(SIGCONT);
            } else if (terminal_.exists() && a_job_control_shell_may_continue_lockrun()) {
                stop_with_command(stop_signal);
            }
            // Else nothing could bring lockrun to the foreground (it has no terminal, or its
            // parent is in its own group, or another session: someone's kill -TTIN): the
            // command stays stopped, as it was left.
        }
    }

    // Whether lockrun's parent is in another process group of its session, as a shell with
    // job control is: else lockrun's group may be orphaned, where the kernel drops a stop by
    // SIGTTIN or SIGTTOU, and no one would continue lockrun after one by SIGSTOP.
    static bool a_job_control_shell_may_continue_lockrun() {
        const pid_t parent = ::getppid();
        return ::getpgid(parent) != ::getpgrp() && ::getsid(parent) == ::getsid(0);
    }

    // The end of the lease to the watcher, which stops the command then if we have not
    // (we are stopped: kill -STOP, or hang), as lost() makes us do. Written when it changes.
    void tell_watcher_the_lease_end() {
        watcher_.lease_ends_at(watcher_may_stop_the_command_ ? lease_.unattended_end()
                                                             : std::nullopt);
    }

    void stop_for_lock_loss() {
        tell_watcher_the_lease_end();  // none: it is ours to stop now
        report_.stopped_for_lock_loss = true;
        if (policy_.on_lock_lost == OnLockLost::kill) {
            child_.signal_group(SIGKILL);
        } else {
            child_.signal_group(SIGTERM);
            kill_deadline_ = Deadline::after(policy_.kill_after);
        }
    }

    ChildProcess& child_;
    GroupWatcher& watcher_;
    std::vector<OutputRelay> relays_;
    SignalWatch& signals_;
    LeaseKeeper& lease_;
    const RunPolicy& policy_;
    RunReport& report_;
    PollSet poll_set_;
    int signal_slot_ = -1;
    int lease_slot_ = -1;
    int live_slot_ = -1;
    std::vector<std::pair<int, int>> relay_slots_;  // read, write
    bool child_may_have_ended_ = true;              // a SIGCHLD came (or none was looked for yet)
    std::optional<ChildProcess::Ending> ending_;
    Deadline drain_deadline_ = Deadline::never();
    Deadline kill_deadline_ = Deadline::never();
    bool relays_done_ = false;
    bool resume_command_ = false;               // stopped with lockrun (Ctrl-Z), to be continued
    bool watcher_may_stop_the_command_ = true;  // not while we stopped it with us
    TerminalHandover terminal_;
    // The command's group gets the terminal whenever lockrun is its foreground job: typed at
    // a prompt, or once the command stopped for it (SIGTTIN, SIGTTOU).
    bool command_gets_terminal_ = false;
};

}  // namespace

RunReport Supervisor::run(const CommandSpec& command, LeaseKeeper& lease, const RunPolicy& policy) {
    RunReport report;
    Capture capture;
    capture.enabled = policy.capture;
    capture.limit = policy.capture_limit;
    Pipe stdout_pipe = make_pipe();
    std::optional<Pipe> stderr_pipe;
    if (policy.capture_stderr) stderr_pipe = make_pipe();

    Clock::time_point started = Clock::now();
    // Before the command starts: a Ctrl-Z that comes as soon as it runs stops it too. (The
    // command starts with lockrun's original mask, SIGTSTP unblocked.)
    TerminalStopWatch stops_with_the_command(signals_);
    // Declared before the command, so destroyed after it: a command still running when we
    // unwind is killed by ChildProcess, and only then is its watcher stopped.
    // On the lease's end the watcher stops the command as --on-lock-lost says (ignore: no
    // lease end for it to watch); only a lease that can run out has one.
    std::optional<GroupWatcher::LeaseEnd> lease_end;
    const std::optional<Clock::time_point> unattended_end = lease.unattended_end();
    if (policy.on_lock_lost != OnLockLost::ignore && unattended_end) {
        lease_end = GroupWatcher::LeaseEnd{
            policy.on_lock_lost == OnLockLost::kill ? Millis(0) : policy.kill_after,
            *unattended_end};
    }
    GroupWatcher watcher = GroupWatcher::start(lease_end);
    std::optional<ChildProcess> child =
        start_command(command, signals_, stdout_pipe, stderr_pipe, watcher.group(), report);
    if (!child) return report;

    OutputTap tap{capture, policy.live};
    RunLoop loop(*child, watcher, relay_output(std::move(stdout_pipe), std::move(stderr_pipe), tap),
                 signals_, lease, policy, report);
    loop.give_terminal_to_an_interactive_command();
    while (!loop.finished()) {
        loop.wait();             // once: until a source is ready or the earliest deadline
        loop.forward_signals();  // to the command's process group
        loop.reap_child();       // starts the drain of leftover output (k_output_drain)
        loop.keep_lease();       // on loss: SIGTERM, then SIGKILL after --kill-after
        loop.pump_output();      // read what is there, write what the reader takes
    }
    watcher.stop();
    stopped_watcher_.emplace(std::move(watcher));
    report.exit_status = loop.ending().exit_status;
    report.killed_by_signal = loop.ending().signal;
    report.output_failed = loop.output_failure();
    report.output_cut = loop.output_cut();
    report.duration = std::chrono::duration_cast<Millis>(Clock::now() - started);
    capture.finish();
    report.output = std::move(capture.chunks);
    if (!capture.compressed.empty()) {
        report.compressed_output = std::move(capture.compressed);
        report.compressed_bytes = capture.size;
    }
    report.output_over_limit = capture.over_limit;
    if (capture.failure != nullptr) report.capture_failed = capture.failure;
    return report;
}

}  // namespace lockrun
