#pragma once
// The whole of a small regular file (a config file, a password file), read with open(2) and
// read(2): no C++ stream, whose construction builds the classic locale (cli/cli11.hpp).

#include <cstddef>
#include <string>

namespace lockrun {

struct SmallFile {
    enum class Problem { none, unreadable, not_regular, too_large };
    Problem problem = Problem::none;
    int error = 0;     // errno, when unreadable
    std::string text;  // all of it, when no problem
};

// Opened non-blocking, so that a FIFO or a device in the file's place cannot hold lockrun in
// open() with its signals blocked; then only a regular file is read, `limit` bytes at most.
SmallFile read_small_file(const std::string& path, std::size_t limit);

}  // namespace lockrun
