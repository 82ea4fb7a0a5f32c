#include "backend/local/dir_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
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

void remove_file_at(int dir_fd, const std::string& name) {
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) fail("remove", name);
}

}  // namespace lockrun
