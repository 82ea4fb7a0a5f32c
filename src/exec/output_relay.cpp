#include "exec/output_relay.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lockrun {
namespace {

// Grows pipe `fd` to k_streaming_pipe. Never shrunk (its owner may have made it larger);
// refused past the user's pipe limits (EPERM): the pipe keeps its size.
void grow_pipe(int fd) {
    int capacity = ::fcntl(fd, F_GETPIPE_SZ);
    if (capacity > 0 && capacity < k_streaming_pipe) {
        (void)::fcntl(fd, F_SETPIPE_SZ, k_streaming_pipe);
    }
}

}  // namespace

OutputRelay::OutputRelay(UniqueFd source, int destination, OutputStream stream, OutputTap& tap)
    : source_(std::move(source)), destination_(destination), stream_(stream), tap_(tap) {
    struct stat info {};
    bool known = ::fstat(destination, &info) == 0;
    destination_is_fifo_ = known && S_ISFIFO(info.st_mode);
    destination_is_pipe_ = destination_is_fifo_ || (known && S_ISSOCK(info.st_mode));
    // A socket may block a splice that polled writable (it takes PIPE_BUF at least, not a
    // pipe's worth), and a terminal refuses splice: both get read and write. So does a file
    // opened for appending (>>), which splice refuses with EINVAL.
    kernel_moves_ = destination_is_fifo_ || (known && S_ISREG(info.st_mode));
}

void OutputRelay::command_ended() {
    int unread = 0;
    if (source_.valid() && ::ioctl(source_.get(), FIONREAD, &unread) == 0 && unread > 0) {
        owed_ = static_cast<std::size_t>(unread);
    }
}

void OutputRelay::took_from_source(std::size_t bytes) {
    owed_ -= std::min(owed_, bytes);
    if (stopping_ && owed_ == 0) close_source();
}

char* OutputRelay::buffer() {
    if (!buffer_) buffer_ = std::make_unique<char[]>(k_relay_buffer);
    return buffer_.get();
}

void OutputRelay::read_source() {
    if (kernel_move_fits()) {
        if (move_in_kernel(false) == Moved::done) return;
        kernel_moves_ = false;
    }
    read_into_pending();
}

void OutputRelay::write_destination() {
    if (!pending_.empty()) {
        write_pending();
        return;
    }
    // A kernel move waited for room: move again; a source found empty is polled again.
    destination_full_ = false;
    if (!source_.valid() || !kernel_move_fits() || tap_.holds_back()) return;
    if (move_in_kernel(true) == Moved::not_supported) kernel_moves_ = false;
}

OutputRelay::Moved OutputRelay::move_in_kernel(bool after_room) {
    return tap_.wants_bytes() ? tee_and_capture(after_room) : splice_to_destination(after_room);
}

OutputRelay::Moved OutputRelay::splice_to_destination(bool after_room) {
    ssize_t moved;
    do {
        moved = ::splice(source_.get(), nullptr, destination_, nullptr, k_relay_buffer,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    } while (moved < 0 && errno == EINTR);
    if (moved == 0) source_ended();
    if (moved >= 0) {
        grow_pipes_if_streaming(static_cast<std::size_t>(moved));
        took_from_source(static_cast<std::size_t>(moved));
        return Moved::done;
    }
    return kernel_move_failed(after_room);
}

OutputRelay::Moved OutputRelay::kernel_move_failed(bool after_room) {
    if (errno == EAGAIN) {
        destination_full_ = !after_room;
        return Moved::done;
    }
    if (errno == EINVAL) return Moved::not_supported;
    destination_failed(errno);
    return Moved::done;
}

OutputRelay::Moved OutputRelay::tee_and_capture(bool after_room) {
    ssize_t copied;
    do {
        copied = ::tee(source_.get(), destination_, k_relay_buffer, SPLICE_F_NONBLOCK);
    } while (copied < 0 && errno == EINTR);
    if (copied == 0) {
        // Nothing to copy and no writer left: read(2) sees the end.
        read_into_pending();
        return Moved::done;
    }
    if (copied < 0) return kernel_move_failed(after_room);
    // The destination has the bytes; take the same bytes off the source, for the capture.
    char* bytes = buffer();
    std::size_t want = static_cast<std::size_t>(copied), have = 0;
    while (have < want) {
        ssize_t got = ::read(source_.get(), bytes + have, want - have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // cannot happen: lockrun is the pipe's only reader
        have += static_cast<std::size_t>(got);
    }
    tap_.add(stream_, std::string_view(bytes, have));
    grow_pipes_if_streaming(have);
    took_from_source(have);
    return Moved::done;
}

void OutputRelay::grow_pipes_if_streaming(std::size_t bytes) {
    if (pipes_grown_ || !source_.valid()) return;
    int capacity = ::fcntl(source_.get(), F_GETPIPE_SZ);
    if (capacity <= 0 || bytes < static_cast<std::size_t>(capacity)) return;
    pipes_grown_ = true;
    grow_pipe(source_.get());
    // Our own pipe, too: at its default 64 KiB, a move filled it and the relay slept until
    // the reader emptied it, each side waking the other at every move (1 GiB of zeros,
    // captured: 20,000-22,000 context switches against 9,000-13,000, and 10% more CPU).
    if (destination_is_fifo_) grow_pipe(destination_);
}

void OutputRelay::read_into_pending() {
    char* bytes = buffer();
    ssize_t got;
    do {
        got = ::read(source_.get(), bytes, k_relay_buffer);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        if (got == 0 || errno != EAGAIN) source_ended();
        return;
    }
    std::string_view read(bytes, static_cast<std::size_t>(got));
    tap_.add(stream_, read);
    grow_pipes_if_streaming(read.size());
    if (!destination_broken_) {
        pending_.assign(read);
        written_ = 0;
    }
    took_from_source(read.size());
}

std::size_t OutputRelay::pipe_room() const {
    int capacity = ::fcntl(destination_, F_GETPIPE_SZ);
    int unread = 0;
    if (capacity <= 0 || ::ioctl(destination_, FIONREAD, &unread) != 0) return PIPE_BUF;
    long room = static_cast<long>(capacity) - unread - 4096;
    return static_cast<std::size_t>(std::max<long>(room, PIPE_BUF));
}

void OutputRelay::write_pending() {
    // A write to a pipe that does not fit blocks the loop (and the lease renewals) behind
    // a slow reader: write what the pipe has room for, less a page for the kernel's
    // per-page accounting, and at least PIPE_BUF, which a pipe that polled writable takes.
    std::size_t chunk = pending_.size() - written_;
    if (destination_is_pipe_) chunk = std::min(chunk, pipe_room());
    ssize_t put = ::write(destination_, pending_.data() + written_, chunk);
    if (put < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        destination_failed(errno);
        return;
    }
    written_ += static_cast<std::size_t>(put);
    if (written_ == pending_.size()) {
        pending_.clear();
        written_ = 0;
    }
}

void OutputRelay::destination_failed(int error) {
    destination_broken_ = true;
    destination_full_ = false;
    pending_.clear();
    if (error == EPIPE) {
        cut_ = source_.valid();
        source_.reset();
        return;
    }
    failure_ = std::string(stream_ == OutputStream::stdout_stream ? "stdout" : "stderr") + ": " +
               std::strerror(error);
}

}  // namespace lockrun
