#include "backend/local/dir_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/errors.hpp"
#include "util/atomic_file.hpp"

namespace lockrun {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& name) {
    throw BackendUnavailable(
        fmt::format("local state: cannot {} {}: {}", what, name, std::strerror(errno)));
}

}  // namespace

std::string read_all(int fd, const std::string& what) {
    std::string bytes;
    char buffer[64 * 1024];
    off_t offset = 0;
    for (;;) {
        ssize_t got = ::pread(fd, buffer, sizeof buffer, offset);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("read", what);
        if (got == 0) return bytes;
        bytes.append(buffer, static_cast<size_t>(got));
        offset += got;
    }
}

std::optional<std::string> read_file_at(int dir_fd, const std::string& name) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::nullopt;
        fail("open", name);
    }
    return read_all(fd.get(), name);
}

void replace_file_at(int dir_fd, const std::string& name, std::string_view bytes) {
    try {
        replace_file(dir_fd, name, bytes, 0600);
    } catch (const std::system_error& e) {
        throw BackendUnavailable("local state: cannot " + std::string(e.what()));
    }
}

std::string update_file_at(
    int dir_fd, const std::string& name,
    const std::function<std::string(const std::optional<std::string>&)>& next) {
    // O_NONBLOCK: a FIFO in its place must not block the open; it is refused below.
    UniqueFd fd(::openat(dir_fd, name.c_str(),
                         O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd.valid()) fail("open", name);
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) fail("examine", name);
    if (!S_ISREG(info.st_mode)) {
        errno = EINVAL;
        fail("use", name + " (not a regular file)");
    }
    std::string old_bytes = read_all(fd.get(), name);
    std::string new_bytes =
        next(old_bytes.empty() ? std::nullopt : std::optional<std::string>(old_bytes));
    ssize_t put;
    do {
        put = ::pwrite(fd.get(), new_bytes.data(), new_bytes.size(), 0);
    } while (put < 0 && errno == EINTR);
    if (put != static_cast<ssize_t>(new_bytes.size())) {
        if (put >= 0) errno = ENOSPC;
        fail("write", name);
    }
    if (new_bytes.size() < old_bytes.size() &&
        ::ftruncate(fd.get(), static_cast<off_t>(new_bytes.size())) != 0) {
        fail("write", name);
    }
    return new_bytes;
}

void remove_file_at(int dir_fd, const std::string& name) {
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) fail("remove", name);
}

}  // namespace lockrun
