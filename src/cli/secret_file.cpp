#include "cli/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

std::string read_secret_file(const std::string& path, const std::string& option) {
    // Non-blocking, so that a FIFO (or a device) in its place cannot hold lockrun in open()
    // with its signals blocked; then only a regular file is read.
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!file.valid()) {
        throw ConfigError("cannot read " + option + " " + path + ": " + std::strerror(errno));
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        throw ConfigError(option + " " + path + " is not a regular file");
    }
    std::string secret;
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            throw ConfigError("cannot read " + option + " " + path + ": " + std::strerror(errno));
        }
        if (got == 0) break;
        secret.append(buffer, static_cast<std::size_t>(got));
        if (secret.size() > 64 * 1024) {
            throw ConfigError(option + " " + path + " is too large to hold a password");
        }
    }
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) throw ConfigError(option + " " + path + " is empty");
    return secret;
}

}  // namespace lockrun
