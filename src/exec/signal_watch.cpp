#include "exec/signal_watch.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"

namespace lockrun {
namespace {

constexpr int k_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

bool ignored_at_start(int signal_number) {
    struct sigaction current {};
    ::sigaction(signal_number, nullptr, &current);
    return current.sa_handler == SIG_IGN;
}

}  // namespace

SignalWatch::SignalWatch() {
    sigset_t watched;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    // A signal ignored when we started (nohup, a background job) stays ignored: it is not
    // watched, and the command inherits the ignoring disposition.
    for (int signal_number : k_forwarded) {
        if (!ignored_at_start(signal_number)) sigaddset(&watched, signal_number);
    }
    if (::sigprocmask(SIG_BLOCK, &watched, &original_mask_) != 0) {
        throw InternalError(std::string("sigprocmask: ") + std::strerror(errno));
    }
    signal_fd_.reset(::signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signal_fd_.valid()) {
        throw InternalError(std::string("signalfd: ") + std::strerror(errno));
    }
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &original_sigpipe_);
}

SignalWatch::~SignalWatch() {
    ::sigaction(SIGPIPE, &original_sigpipe_, nullptr);
    ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
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
