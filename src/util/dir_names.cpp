#include "util/dir_names.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace lockrun {

std::optional<std::vector<std::string>> names_in_dir(int dir_fd) {
    // fdopendir() takes the descriptor it is given and reads from its offset: give it one
    // of its own.
    int own = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) return std::nullopt;
    DIR* dir = ::fdopendir(own);
    if (dir == nullptr) {
        int error = errno;
        ::close(own);
        errno = error;
        return std::nullopt;
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
        errno = 0;
    }
    int error = errno;
    ::closedir(dir);
    if (error != 0) {
        errno = error;
        return std::nullopt;
    }
    return names;
}

}  // namespace lockrun
