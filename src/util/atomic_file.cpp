#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "util/random_token.hpp"
#include "util/unique_fd.hpp"
#include "util/write_all.hpp"

namespace lockrun {
namespace {

[[noreturn]] void fail(const std::string& step) {
    throw std::system_error(errno, std::generic_category(), step);
}

// A unique name beside the file. A failing random source is a failed step like any other,
// so that the caller's handling of std::system_error (a warning, for --metrics-file) holds.
std::string temporary_name_for(const std::string& name) {
    try {
        return name + ".tmp." + random_token();
    } catch (const std::runtime_error& e) {
        throw std::system_error(EIO, std::generic_category(),
                                "name a temporary file: " + std::string(e.what()));
    }
}

}  // namespace

void replace_file(int dir_fd, const std::string& name, std::string_view bytes, mode_t mode) {
    std::string temporary = temporary_name_for(name);
    UniqueFd fd(::openat(dir_fd, temporary.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid()) fail("create " + temporary);
    try {
        if (!write_all(fd.get(), bytes)) fail("write " + temporary);
        // A file system that reports a failed write only at close (NFS) must not get the
        // name of a file that is short.
        if (::close(fd.release()) != 0) fail("write " + temporary);
        if (::renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) != 0) {
            fail("rename into place " + name);
        }
    } catch (...) {
        ::unlinkat(dir_fd, temporary.c_str(), 0);
        throw;
    }
}

}  // namespace lockrun
