#include "util/write_all.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "fakes/test_pipe.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

std::string read_everything(int fd) {
    std::string bytes;
    char buffer[4096];
    for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) bytes.append(buffer, got);
    return bytes;
}

// Writes `bytes` into `pipe` with write_all while a child process reads them, starting
// `reader_delay_us` late (the pipe is full by then); true when every byte went through.
bool written_and_read_whole(TestPipe& pipe, const std::string& bytes, useconds_t reader_delay_us) {
    pid_t reader = ::fork();
    if (reader < 0) return false;
    if (reader == 0) {
        pipe.write_end.reset();
        ::usleep(reader_delay_us);
        ::fcntl(pipe.read_end.get(), F_SETFL, 0);  // the reader blocks, whatever the writer does
        ::_exit(read_everything(pipe.read_end.get()) == bytes ? 0 : 1);
    }
    pipe.read_end.reset();
    bool written = write_all(pipe.write_end.get(), bytes);
    pipe.write_end.reset();
    int status = 0;
    return ::waitpid(reader, &status, 0) == reader && written && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

TEST(WriteAll, WritesMoreThanOnePipeBufferInShortWrites) {
    TestPipe pipe;
    ASSERT_EQ(::fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096), 4096);
    EXPECT_TRUE(written_and_read_whole(pipe, std::string(256 * 1024, 'x'), 0));
}

TEST(WriteAll, WaitsForRoomInANonBlockingPipe) {
    // A descriptor that another program made non-blocking: EAGAIN is a full pipe, not a
    // failure.
    TestPipe pipe(O_NONBLOCK);
    EXPECT_TRUE(written_and_read_whole(pipe, std::string(1024 * 1024, 'y'), 200 * 1000));
}

TEST(WriteAll, FailsWithEpipeWhenTheReaderHasGone) {
    TestPipe pipe;
    pipe.read_end.reset();
    auto previous = std::signal(SIGPIPE, SIG_IGN);
    EXPECT_FALSE(write_all(pipe.write_end.get(), "lost"));
    EXPECT_EQ(errno, EPIPE);
    std::signal(SIGPIPE, previous);
}

TEST(WriteAll, SucceedsAtOnceWithNothingToWrite) {
    EXPECT_TRUE(write_all(-1, ""));
}

}  // namespace
}  // namespace lockrun
