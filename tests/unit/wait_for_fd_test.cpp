#include "backend/wait_for_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>

#include "core/errors.hpp"
#include "fakes/test_pipe.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

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
    TestPipe signals{O_NONBLOCK};
};

TEST(WaitForFd, SaysReadyWhenTheFdIs) {
    TestPipe pipe{O_NONBLOCK};
    pipe.put('x');
    PipeInterrupt interrupt;
    EXPECT_EQ(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::never(), &interrupt),
              FdWait::ready);
    EXPECT_EQ(wait_for_fd(pipe.write_end.get(), POLLOUT, Deadline::never(), nullptr),
              FdWait::ready);
}

TEST(WaitForFd, TimesOutAtTheDeadline) {
    TestPipe pipe{O_NONBLOCK};
    auto started = Clock::now();
    EXPECT_EQ(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::after(Millis(50)), nullptr),
              FdWait::timed_out);
    EXPECT_GE(Clock::now() - started, Millis(50));
}

TEST(WaitForFd, ThrowsInterruptedForASignalForLockrun) {
    TestPipe pipe{O_NONBLOCK};
    PipeInterrupt interrupt;
    interrupt.signals.put('I');
    EXPECT_THROW(wait_for_fd(pipe.read_end.get(), POLLIN, Deadline::never(), &interrupt),
                 Interrupted);
}

TEST(WaitForFd, WaitsOnAfterASignalThatIsNotForLockrun) {
    TestPipe pipe{O_NONBLOCK};
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
