#include "backend/wait_for_fd.hpp"

#include <poll.h>

#include <cerrno>

namespace lockrun {

FdWait wait_for_fd(int fd, short events, Deadline deadline, InterruptSource* interrupt) {
    for (;;) {
        pollfd fds[2] = {{fd, events, 0}, {interrupt ? interrupt->fd() : -1, POLLIN, 0}};
        int ready = ::poll(fds, 2, deadline.poll_timeout_ms());
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return FdWait::failed;
        // Readable also for a signal that is not for lockrun (SIGCHLD): then wait on.
        if (fds[1].revents & POLLIN) interrupt->throw_if_interrupted();
        if (fds[0].revents) return FdWait::ready;
        if (deadline.passed()) return FdWait::timed_out;
    }
}

}  // namespace lockrun
