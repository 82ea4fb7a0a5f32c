#pragma once
// Moves one output stream of the command (a pipe) to ours as soon as it is produced, and
// keeps a copy for the cache up to a limit. Memory stays bounded: one buffer of
// k_relay_buffer bytes in flight, plus the capture up to its limit.

#include <cstdint>
#include <string>
#include <vector>

#include "core/cached_result.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

inline constexpr std::size_t k_relay_buffer = 64 * 1024;

// What all relays of one run capture, in the order it was read.
struct Capture {
    bool enabled = false;
    std::uint64_t limit = 0;
    std::uint64_t size = 0;
    bool over_limit = false;
    std::vector<OutputChunk> chunks;

    void add(OutputStream stream, std::string_view bytes);
};

class OutputRelay {
public:
    OutputRelay(UniqueFd source, int destination, OutputStream stream, Capture& capture);

    // poll(2) interest: read the source while nothing is waiting to be written.
    bool wants_read() const { return source_.valid() && pending_.empty(); }
    bool wants_write() const { return !pending_.empty(); }
    int source_fd() const { return source_.get(); }
    int destination_fd() const { return destination_; }

    // Reads what the source has (call when it polled readable).
    void read_source();
    // Writes what the destination takes without blocking (call when it polled writable).
    void write_destination();
    // Stops reading: the command's leftover children may keep the pipe open.
    void close_source() { source_.reset(); }
    bool done() const { return !source_.valid() && pending_.empty(); }

private:
    // Bytes a pipe destination takes without blocking (sockets: PIPE_BUF).
    std::size_t pipe_room() const;
    UniqueFd source_;
    int destination_;
    bool destination_is_pipe_;
    bool destination_broken_ = false;
    OutputStream stream_;
    Capture& capture_;
    std::string pending_;
    std::size_t written_ = 0;
};

}  // namespace lockrun
