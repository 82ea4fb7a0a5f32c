#pragma once
// SPEC §1: callers that wait for a run follow it live. The holder publishes its output as
// it is produced, and its end; each follower prints those pieces in order and exits with
// the run's status. What the backends keep of it is a bounded window of the latest bytes
// (Redis: the stream PREFIX{KEY}:live; local: an append-only file beside the lock whose
// older blocks are punched out), so memory and disk stay bounded for any output size.
//
// Offsets count the bytes of both published streams together, from the run's start. A
// follower that finds the piece it needs no longer kept (it fell behind the window, or it
// came after the holder stopped publishing for want of followers) sees a gap: it never
// prints torn output.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/cached_result.hpp"
#include "util/deadline.hpp"

namespace lockrun {

// Output that fits here is always published; past it, only while someone follows (a
// holder without followers does not send a gigabyte of logs to the backend for nobody).
inline constexpr std::uint64_t k_live_head_bytes = 1 << 20;
// The most that the backend keeps of a run's output at once: a follower further behind
// than this has lost the bytes it needs.
inline constexpr std::uint64_t k_live_window_bytes = 8 << 20;
// How long a run waits for a follower that lags a window behind and does not move (a reader
// stopped: ^Z, a pager) before it drops the bytes that follower has not read.
inline constexpr Millis k_live_patience{2000};
// And how long it waits in all for followers that lag but move (slower readers): this, or
// as long again as it has run, whichever is longer. A follower that needs more is dropped
// (it falls behind): a run's spectators can slow it, never more than that.
inline constexpr Millis k_live_total_patience{10'000};

// A run's waits for its followers, against those bounds.
class HoldBackBudget {
public:
    // A follower lags, the slowest of them at `position`: a stall starts, or goes on (and
    // counts as progress when the position moved).
    void lagging(const std::string& position) {
        const Clock::time_point now = Clock::now();
        if (!since_ || position != position_) progress_at_ = now;
        if (!since_) since_ = now;
        position_ = position;
    }
    // No follower lags (any more): the stall ends.
    void resume() {
        if (since_) spent_ += Clock::now() - *since_;
        since_.reset();
    }
    bool stalled() const { return since_.has_value(); }
    // Whether the stall under way may go on.
    bool allows() const { return Clock::now() < runs_out().at(); }
    // When the stall under way runs out: its follower stood still too long, or the waits of
    // the run add up to too much (looked at again then: the budget grows with the run).
    Deadline runs_out() const {
        if (!since_) return Deadline::never();
        const Clock::time_point now = Clock::now();
        const Clock::duration spent = spent_ + (now - *since_);
        const Clock::duration budget =
            std::max<Clock::duration>(k_live_total_patience, now - started_ - spent);
        const Clock::time_point total_end =
            now + (budget > spent ? budget - spent : Clock::duration::zero());
        return Deadline(std::min(total_end, progress_at_ + k_live_patience));
    }

private:
    Clock::time_point started_ = Clock::now();
    Clock::duration spent_{};
    std::optional<Clock::time_point> since_;
    Clock::time_point progress_at_{};
    std::string position_;
};

// How a published run ended, as its holder wrote it with the release (SPEC §5 finish).
struct LiveEnd {
    int exit_status = 0;
    // false: the run has no outcome to share (stopped by a signal the user sent, or its
    // command could not start): its followers that printed nothing run the command.
    bool has_outcome = true;
    // The offset after the run's last byte; k_live_total_unknown when publishing stopped
    // before the output's end (nobody followed, or the backend could not take it): then no
    // follower can have printed all of it, and none ends as if it had.
    std::uint64_t total_bytes = 0;
    // The reader of the holder's output went away and the command got SIGPIPE: what was
    // published is a part of its output (no outcome either).
    bool output_cut = false;
};
inline constexpr std::uint64_t k_live_total_unknown = std::uint64_t{1} << 62;

// The next piece of output from `offset` on.
struct LivePiece {
    OutputStream stream = OutputStream::stdout_stream;
    std::string bytes;
};
// The bytes at the offset asked for are not kept (or were never published).
struct LiveGap {};
// Nothing new before the deadline.
struct LiveNothingYet {};
using LiveEvent = std::variant<LivePiece, LiveEnd, LiveGap, LiveNothingYet>;

// A follower's view of one run (one fence).
class LiveFeed {
public:
    virtual ~LiveFeed() = default;
    // The piece that starts at `offset`, the run's end when all before it was read, a gap,
    // or nothing by `deadline`. Throws BackendUnavailable, Interrupted.
    virtual LiveEvent next(std::uint64_t offset, Deadline deadline) = 0;
    // Whether the run still goes on: false once it has let go of the key (everything it
    // published is then there to read), or died. One atomic look: a false "gone" would end
    // a follower of a run that succeeds. Throws BackendUnavailable.
    virtual bool run_goes_on() = 0;
};

// The holder's side. publish() never waits for the backend: what it cannot send at once is
// queued, up to a bound past which publishing stops for this run (followers see a gap).
class LivePublisher {
public:
    virtual ~LivePublisher() = default;
    // Whether publish() still wants bytes (false once nobody follows past the head, or
    // after giving up): the relays then move output without reading it.
    virtual bool wants_bytes() const = 0;
    virtual void publish(OutputStream stream, std::string_view bytes) = 0;
    // The offset after the last byte published, while every byte offered was published;
    // nullopt once publishing stopped (the bytes after that were never offered).
    virtual std::optional<std::uint64_t> published_total() const = 0;
    // poll(2) interest while the run goes on: the fd (-1: none) and its events.
    virtual int poll_fd() const { return -1; }
    virtual short poll_events() const { return 0; }
    // Call when poll_fd() polled ready, or next_wakeup() passed: sends what is queued, reads
    // what was answered, looks again at a follower that lags.
    virtual void on_ready() {}
    virtual Deadline next_wakeup() const { return Deadline::never(); }
    // While true, the relays leave the command's output in its pipe (the command waits, as
    // behind any slow pipe): the backend, or a follower, is a window behind. Each such stall
    // lasts a bounded patience at most; then the laggard loses bytes (a follower falls
    // behind; a server too slow stops the publishing) and the run goes on at its own pace.
    virtual bool holds_back() const { return false; }
    // Before the release that publishes the end: everything published is in the backend
    // (in order before the end), or given up by `deadline`. Never throws.
    virtual void flush(Deadline deadline) noexcept = 0;
};

}  // namespace lockrun
