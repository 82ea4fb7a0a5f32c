#pragma once
// A pipe for tests: both ends owned, closed with the object.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "util/unique_fd.hpp"

namespace lockrun {

struct TestPipe {
    UniqueFd read_end, write_end;
    // `flags` for pipe2(2): O_CLOEXEC always, O_NONBLOCK when asked.
    explicit TestPipe(int flags = 0) {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | flags), 0);
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
    void put(char byte) { EXPECT_EQ(::write(write_end.get(), &byte, 1), 1); }
};

}  // namespace lockrun
