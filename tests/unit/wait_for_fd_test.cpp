#include "backend/wait_for_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>

#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

struct Pipe {
    UniqueFd read_end, write_end;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
    void put(char byte) { EXPECT_EQ(::write(write_end.get(), &byte, 1), 1); }
};

// A signal is a byte in a pipe: 'I' for SIGINT (interrupts), 'C' for SIGCHLD (does not).
class PipeInterrupt : public InterruptSource {
public:
    int fd() const override { return signals.read_end.get(); }
    void throw_if_interrupted() override {
        char byte;
        while (::read(signals.read_end.get(), &byte, 1) == 1) {
            if (byte == 'I') throw Interrupted(SIGINT);
        }
    }
    Pipe signals;
};

TEST(WaitForFd, SaysReadyWhenTheFdIs) {
    Pipe pipe;
    pipe.put('x');
    PipeInterrupt interrupt;
    EXPECT_EQ(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::never(), &interrupt),
              FdWait::ready);
    EXPECT_EQ(wait_for_fd(pipe.write_end.get(), POLLOUT, Deadline::never(), nullptr),
              FdWait::ready);
}

TEST(WaitForFd, TimesOutAtTheDeadline) {
    Pipe pipe;
    auto started = Clock::now();
    EXPECT_EQ(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::after(Millis(50)), nullptr),
              FdWait::timed_out);
    EXPECT_GE(Clock::now() - started, Millis(50));
}

TEST(WaitForFd, ThrowsInterruptedForASignalForLockrun) {
    Pipe pipe;
    PipeInterrupt interrupt;
    interrupt.signals.put('I');
    EXPECT_THROW(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::never(), &interrupt),
                 Interrupted);
}

TEST(WaitForFd, WaitsOnAfterASignalThatIsNotForLockrun) {
    Pipe pipe;
    PipeInterrupt interrupt;
    interrupt.signals.put('C');
    EXPECT_EQ(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::after(Millis(20)), &interrupt),
              FdWait::timed_out);
}

TEST(WaitForFd, WithoutAnFdSleepsUntilTheDeadlineOrTheSignal) {
    PipeInterrupt interrupt;
    EXPECT_EQ(wait_for_fd(-1, 0, Deadline::after(Millis(20)), &interrupt), FdWait::timed_out);
    interrupt.signals.put('I');
    EXPECT_THROW(wait_for_fd(-1, 0, Deadline::never(), &interrupt), Interrupted);
}

}  // namespace
}  // namespace lockrun
