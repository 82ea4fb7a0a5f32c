#pragma once
// The local backend's live output of a run (SPEC §1, §6): STATE_DIR/<sha256(KEY)>.live, an
// append-only file that the holder writes and its followers read, woken through its wake
// word (live_wake_word.hpp).
//
// Each run makes a new file (the old one is unlinked, so that a follower of the last run
// still reads that run's file). A 64-byte header: "lockrun-live\n" and three zero bytes,
// the run's fence, and `kept_from`, the position before which the holder may have punched
// the blocks out (fallocate(2)) to keep the file within k_live_window_bytes; then frames:
// a kind (1 stdout, 2 stderr, 3 end), three zero bytes, the payload's length (u32), the
// output offset it starts at (u64), and the payload. An end's payload: the exit status
// (i32), 1 or 0 (it has an outcome), three zero bytes, and the total (u64). Integers are
// little-endian. Byte 32 of the header is the wake word: the count of frames written (and
// of stops), in the host's order, which followers wait on.
//
// A follower holds a read lock (fcntl(2), open file description) of the first byte of the
// frame it reads next, so that the holder punches out only what every follower has
// read: one that lags a window behind makes the holder wait (holds_back()), within the
// run's HoldBackBudget, after which it loses the bytes it had not read.
//
// The holder holds a write lock of the file's first byte while the run goes on (it goes
// with its lockrun, dead or done): a follower looks at it to know that no end will come.
// /proc/locks, which `status` reads, is no snapshot: a follower that read it while others
// moved their locks could miss the holder and stop short.
//
// A follower also holds a shared flock(2) of the file while it follows; a holder past the head
// (k_live_head_bytes) that can take it exclusively has no followers, and stops publishing:
// it sets kept_from to the end, so that a follower that comes later sees a gap from the
// start, never a head followed by nothing.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "backend/local/live_wake_word.hpp"
#include "core/interrupt_source.hpp"
#include "core/live_output.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

// Makes the key's live file afresh for the run `fence`, which holds the lock. Throws
// BackendUnavailable.
UniqueFd start_live_file(int dir_fd, const std::string& name, std::uint64_t fence);

// The fence of the run whose live file is at `name`; nullopt when there is none (or it is
// not one).
std::optional<std::uint64_t> live_file_fence(int dir_fd, const std::string& name);

// Appends the run's end to its live file (`fd`, from start_live_file), before the release.
// Best effort: a follower that misses it finds the lock free and says so.
void append_live_end(int fd, const LiveEnd& end) noexcept;

class LiveFilePublisher : public LivePublisher {
public:
    // `file` from start_live_file: its header written, no frame yet.
    explicit LiveFilePublisher(UniqueFd file);
    bool wants_bytes() const override { return publishing_; }
    void publish(OutputStream stream, std::string_view bytes) override;
    std::optional<std::uint64_t> published_total() const override {
        return publishing_ ? std::optional(offset_) : std::nullopt;
    }
    void flush(Deadline) noexcept override {}  // every frame is written when published
    bool holds_back() const override { return publishing_ && waits_.stalled() && waits_.allows(); }
    Deadline next_wakeup() const override;
    void on_ready() override { trim(); }

private:
    // The lowest position that a follower still has to read, below `limit`.
    std::optional<std::uint64_t> lowest_reader_below(std::uint64_t limit) const;
    // Past the head: whether any follower holds the file; if none, stops publishing.
    bool followed();
    // Keeps the frames after `end_ - k_live_window_bytes`, punching out those before.
    void trim();
    // Publishing stops for the rest of the run; followers from now on see a gap.
    void stop() noexcept;

    UniqueFd file_;
    LiveWakeWord wake_;  // counts each frame written, and wakes the followers
    bool publishing_ = true;
    std::uint64_t offset_ = 0;
    std::uint64_t end_;        // the file's length: where the next frame goes
    std::uint64_t kept_from_;  // as in the header
    std::deque<std::uint64_t> frame_starts_;
    // The run's waits for followers that keep the window from moving on (they read slower
    // than the command writes).
    HoldBackBudget waits_;
    Deadline look_again_ = Deadline::never();
};

// Opens the live file of the run `fence`, if it is that run's, and holds it shared. nullptr
// when it is not there, is another run's, or cannot be mapped to wait on.
std::unique_ptr<LiveFeed> follow_live_file(int dir_fd, const std::string& name, std::uint64_t fence,
                                           InterruptSource* interrupt);

}  // namespace lockrun
