#include "util/write_all.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
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

TEST(WriteAll, WritesMoreThanOnePipeBufferInShortWrites) {
    TestPipe pipe;
    ASSERT_EQ(::fcntl(pipe.write_end.get(), F_SETPIPE_SZ, 4096), 4096);
    const std::string bytes(256 * 1024, 'x');
    pid_t reader = ::fork();
    ASSERT_GE(reader, 0);
    if (reader == 0) {
        pipe.write_end.reset();
        ::_exit(read_everything(pipe.read_end.get()) == bytes ? 0 : 1);
    }
    pipe.read_end.reset();
    EXPECT_TRUE(write_all(pipe.write_end.get(), bytes));
    pipe.write_end.reset();
    int status = 0;
    ASSERT_EQ(::waitpid(reader, &status, 0), reader);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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
