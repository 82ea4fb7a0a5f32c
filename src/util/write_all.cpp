#include "util/write_all.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace lockrun {

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t put = ::write(fd, bytes.data(), bytes.size());
        if (put < 0 && errno == EINTR) continue;
        if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd room{fd, POLLOUT, 0};
            if (::poll(&room, 1, -1) < 0 && errno != EINTR) return false;
            continue;
        }
        if (put == 0) errno = EIO;  // no progress yet no error: do not leave a stale errno
        if (put <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(put));
    }
    return true;
}

}  // namespace lockrun
