#include "exec/signal_watch.hpp"

#include <sys/signalfd.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "core/errors.hpp"

namespace lockrun {
namespace {

constexpr int k_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};  // original_actions_

bool ignored_at_start(int signal_number) {
    struct sigaction current {};
    ::sigaction(signal_number, nullptr, &current);
    return current.sa_handler == SIG_IGN;
}

// Runs only inside interruptible(), where the forwarded signals are let through: it makes
// the signal pending again and has it blocked once the handler returns, so that the
// interrupted call ends (EINTR) and the signalfd reads the signal as if no handler had run.
void keep_pending(int signal_number, siginfo_t*, void* context) {
    sigaddset(&static_cast<ucontext_t*>(context)->uc_sigmask, signal_number);
    ::raise(signal_number);  // blocked while this handler runs: it stays pending
}

}  // namespace

SignalWatch::SignalWatch() {
    sigemptyset(&forwarded_);
    // A signal ignored when we started (nohup, a background job) stays ignored: it is not
    // watched, and the command inherits the ignoring disposition.
    for (int signal_number : k_forwarded) {
        if (!ignored_at_start(signal_number)) sigaddset(&forwarded_, signal_number);
    }
    watched_ = forwarded_;
    sigaddset(&watched_, SIGCHLD);
    if (::sigprocmask(SIG_BLOCK, &watched_, &original_mask_) != 0) {
        throw InternalError(std::string("sigprocmask: ") + std::strerror(errno));
    }
    terminal_stop_watchable_ = !ignored_at_start(SIGTSTP) && !sigismember(&original_mask_, SIGTSTP);
    signal_fd_.reset(::signalfd(-1, &watched_, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd_.valid()) {
        throw InternalError(std::string("signalfd: ") + std::strerror(errno));
    }
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &original_sigpipe_);
}

SignalWatch::~SignalWatch() {
    // The dispositions first: a signal still pending acts as it would have without us.
    for (std::size_t i = 0; i < std::size(k_forwarded) && keeps_pending_; ++i) {
        if (sigismember(&forwarded_, k_forwarded[i])) {
            ::sigaction(k_forwarded[i], &original_actions_[i], nullptr);
        }
    }
    ::sigaction(SIGPIPE, &original_sigpipe_, nullptr);
    ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
}

void SignalWatch::interruptible(const std::function<void()>& wait) {
    if (!keeps_pending_) {
        // Set at the first such wait (a follower's), not in every run. Not SA_RESTART: the
        // call ends.
        static_assert(std::size(k_forwarded) ==
                      sizeof(original_actions_) / sizeof(original_actions_[0]));
        struct sigaction keep {};
        keep.sa_sigaction = keep_pending;
        keep.sa_flags = SA_SIGINFO;
        keep.sa_mask = forwarded_;
        for (std::size_t i = 0; i < std::size(k_forwarded); ++i) {
            if (sigismember(&forwarded_, k_forwarded[i])) {
                ::sigaction(k_forwarded[i], &keep, &original_actions_[i]);
            }
        }
        keeps_pending_ = true;
    }
    ::sigprocmask(SIG_UNBLOCK, &forwarded_, nullptr);
    // A signal already pending ran the handler as the mask changed, and is blocked again:
    // waiting now would not see it. One that comes in the few instructions between this
    // look and the call is seen when the wait ends (a follower's: within a second).
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    sigandset(&pending, &pending, &forwarded_);
    if (sigisemptyset(&pending)) wait();
    ::sigprocmask(SIG_BLOCK, &forwarded_, nullptr);
}

void SignalWatch::watch_terminal_stop(bool watch) {
    if (!terminal_stop_watchable_) return;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTSTP);
    if (watch) {
        sigaddset(&watched_, SIGTSTP);
        ::sigprocmask(SIG_BLOCK, &stop, nullptr);
        ::signalfd(signal_fd_.get(), &watched_, 0);
        return;
    }
    sigdelset(&watched_, SIGTSTP);
    ::signalfd(signal_fd_.get(), &watched_, 0);
    // One still pending stops lockrun now, with nothing running.
    ::sigprocmask(SIG_UNBLOCK, &stop, nullptr);
}

void SignalWatch::throw_if_interrupted() {
    while (std::optional<int> signal_number = take_signal()) {
        if (*signal_number != SIGCHLD) throw Interrupted(*signal_number);
    }
}

std::optional<int> SignalWatch::take_signal() {
    signalfd_siginfo info{};
    for (;;) {
        ssize_t got = ::read(signal_fd_.get(), &info, sizeof info);
        if (got == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
        if (got < 0 && errno == EINTR) continue;
        return std::nullopt;
    }
}

}  // namespace lockrun
