#include "exec/output_relay.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace lockrun {

void Capture::add(OutputStream stream, std::string_view bytes) {
    if (!enabled || over_limit) return;
    size += bytes.size();
    if (size > limit) {
        // Incomplete output must never be cached; free what was kept.
        over_limit = true;
        chunks.clear();
        chunks.shrink_to_fit();
        return;
    }
    if (!chunks.empty() && chunks.back().stream == stream) {
        chunks.back().bytes.append(bytes);
    } else {
        chunks.push_back({stream, std::string(bytes)});
    }
}

OutputRelay::OutputRelay(UniqueFd source, int destination, OutputStream stream, Capture& capture)
    : source_(std::move(source)), destination_(destination), stream_(stream), capture_(capture) {
    struct stat info {};
    destination_is_pipe_ =
        ::fstat(destination, &info) == 0 && (S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode));
    pending_.reserve(k_relay_buffer);
}

void OutputRelay::read_source() {
    char buffer[k_relay_buffer];
    ssize_t got;
    do {
        got = ::read(source_.get(), buffer, sizeof buffer);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        if (got == 0 || errno != EAGAIN) source_.reset();
        return;
    }
    std::string_view bytes(buffer, static_cast<size_t>(got));
    capture_.add(stream_, bytes);
    if (!destination_broken_) {
        pending_.assign(bytes);
        written_ = 0;
    }
}

std::size_t OutputRelay::pipe_room() const {
    int capacity = ::fcntl(destination_, F_GETPIPE_SZ);
    int unread = 0;
    if (capacity <= 0 || ::ioctl(destination_, FIONREAD, &unread) != 0) return PIPE_BUF;
    long room = static_cast<long>(capacity) - unread - 4096;
    return static_cast<std::size_t>(std::max<long>(room, PIPE_BUF));
}

void OutputRelay::write_destination() {
    // A write to a pipe that does not fit blocks the loop (and the lease renewals) behind
    // a slow reader: write what the pipe has room for, less a page for the kernel's
    // per-page accounting, and at least PIPE_BUF, which a pipe that polled writable takes.
    std::size_t chunk = pending_.size() - written_;
    if (destination_is_pipe_) chunk = std::min(chunk, pipe_room());
    ssize_t put = ::write(destination_, pending_.data() + written_, chunk);
    if (put < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        // The reader went away (EPIPE) or the output failed: as in a shell pipeline, the
        // command learns it from its own pipe closing, and gets SIGPIPE.
        destination_broken_ = true;
        pending_.clear();
        source_.reset();
        return;
    }
    written_ += static_cast<size_t>(put);
    if (written_ == pending_.size()) {
        pending_.clear();
        written_ = 0;
    }
}

}  // namespace lockrun
