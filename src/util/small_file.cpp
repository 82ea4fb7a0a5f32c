#include "util/small_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "util/unique_fd.hpp"

namespace lockrun {

SmallFile read_small_file(const std::string& path, std::size_t limit) {
    SmallFile file;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
        file.problem = SmallFile::Problem::unreadable;
        file.error = errno;
        return file;
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        file.problem = SmallFile::Problem::not_regular;
        return file;
    }
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            file.problem = SmallFile::Problem::unreadable;
            file.error = errno;
            file.text.clear();
            return file;
        }
        if (got == 0) return file;
        file.text.append(buffer, static_cast<std::size_t>(got));
        if (file.text.size() > limit) {
            file.problem = SmallFile::Problem::too_large;
            file.text.clear();
            return file;
        }
    }
}

}  // namespace lockrun
