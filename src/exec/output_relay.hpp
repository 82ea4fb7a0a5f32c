#pragma once
// Moves one output stream of the command (a pipe) to ours as soon as it is produced, and
// hands a copy to the tap (the capture, the live feed) while it wants bytes. Memory stays
// bounded: one buffer of k_relay_buffer bytes in flight, plus the capture up to its limit.
//
// The bytes take the cheapest way the destination allows: where nothing is captured, the
// kernel moves them from pipe to destination (splice(2), no copy through lockrun); where
// the capture keeps them and the destination is a pipe, the kernel copies them there
// (tee(2)) and lockrun reads them once, for the capture; otherwise (a terminal, a socket),
// read(2) and write(2).

#include <memory>
#include <optional>
#include <string>

#include "exec/output_tap.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

// The most one move takes. Once the pipes have grown (below), a move of 256 KiB was no
// cheaper than one of 128 KiB, and the bytes of a move are held up to three times at the
// peak of a captured stream (this buffer, the capture's copy, a live piece queued for
// Redis): 256 KiB cost 0.4 MiB more there. At 64 KiB, a command that streams into a
// pipe woke lockrun twice as often.
inline constexpr std::size_t k_relay_buffer = 128 * 1024;
// The command's pipe, and ours when it is a pipe, grow to this once the command has filled
// its pipe (a command that streams): fewer, larger moves. Only then, since every byte of a user's
// pipes counts against /proc/sys/fs/pipe-user-pages-soft, past which all of that user's new pipes
// are shrunk.
inline constexpr int k_streaming_pipe = 1024 * 1024;

class OutputRelay {
public:
    OutputRelay(UniqueFd source, int destination, OutputStream stream, OutputTap& tap);

    // poll(2) interest: read the source while nothing waits for the destination, else wait
    // until the destination takes more.
    bool wants_read() const {
        return source_.valid() && !waits_for_destination() && !tap_.holds_back();
    }
    bool wants_write() const { return waits_for_destination(); }
    int source_fd() const { return source_.get(); }
    int destination_fd() const { return destination_; }

    // Moves what the source has (call when it polled readable).
    void read_source();
    // Moves what the destination takes without blocking (call when it polled writable).
    void write_destination();
    // The command exited: what its pipe holds now was written before that, by it or by
    // children it left, and is owed to the destination however slowly the reader takes it.
    void command_ended();
    // Stops reading once the owed bytes are read: a leftover child may keep the pipe open,
    // and what it writes from now on is not the command's output.
    void stop_after_owed() {
        stopping_ = true;
        if (owed_ == 0) close_source();
    }
    bool done() const { return !source_.valid() && pending_.empty(); }
    // Why the destination refused the output (ENOSPC, EIO...), when it did: the command
    // was left to run, its output still read for the tap, the rest not written. A reader
    // that went away (EPIPE) is no failure of the output: the command is told as in a
    // shell pipeline.
    const std::optional<std::string>& failure() const { return failure_; }
    // The reader went away (EPIPE) while the command's pipe was still open: the command was
    // cut off (SIGPIPE at its next write), and what the tap got is a part of its output.
    bool cut() const { return cut_; }

private:
    enum class Moved { done, not_supported };
    bool waits_for_destination() const { return !pending_.empty() || destination_full_; }
    // splice(2) while nothing is captured; tee(2) and read(2) while the capture keeps bytes
    // and the destination is a pipe.
    bool kernel_move_fits() const {
        return kernel_moves_ && !destination_broken_ &&
               (!tap_.wants_bytes() || destination_is_fifo_);
    }
    // `after_room`: the destination just polled writable, so a move that finds nothing to
    // do found the source empty (else: the destination full).
    Moved move_in_kernel(bool after_room);
    Moved splice_to_destination(bool after_room);
    Moved tee_and_capture(bool after_room);
    // What a splice or tee that failed with errno means: the destination is full (or the
    // source empty), refuses kernel moves (EINVAL), or failed.
    Moved kernel_move_failed(bool after_room);
    void read_into_pending();
    // After a move of `bytes`: grows the source pipe (and a pipe destination) once the
    // command fills it.
    void grow_pipes_if_streaming(std::size_t bytes);
    void write_pending();
    // The read end of the command's pipe gave EOF or failed.
    void source_ended() { source_.reset(); }
    void close_source() {
        source_.reset();
        destination_full_ = false;
    }
    // `bytes` were taken off the source: fewer owed, and none left closes it if stopping.
    void took_from_source(std::size_t bytes);
    // A write or move to the destination failed with `error`. The reader went away
    // (EPIPE): as in a shell pipeline, the command learns it from its own pipe closing, and
    // gets SIGPIPE. Anything else (a full disk): the command runs on, unaware, so that its
    // outcome, stored and shared, is its own; this caller's failure() says what happened.
    void destination_failed(int error);
    // Bytes a pipe destination takes without blocking (sockets: PIPE_BUF).
    std::size_t pipe_room() const;
    char* buffer();

    UniqueFd source_;
    int destination_;
    bool destination_is_pipe_;  // a pipe or a socket: writes are limited to their room
    bool destination_is_fifo_;
    bool kernel_moves_;  // splice/tee to this destination (a pipe or a file) are worth trying
    bool destination_full_ = false;  // a kernel move found no room: wait for POLLOUT
    bool destination_broken_ = false;
    bool pipes_grown_ = false;
    std::size_t owed_ = 0;   // unread in the source when the command exited (command_ended)
    bool stopping_ = false;  // stop_after_owed() was called
    OutputStream stream_;
    OutputTap& tap_;
    std::unique_ptr<char[]> buffer_;  // k_relay_buffer bytes, allocated on first use
    std::string pending_;             // read, not yet written (read/write path only)
    std::size_t written_ = 0;
    std::optional<std::string> failure_;
    bool cut_ = false;
};

}  // namespace lockrun
