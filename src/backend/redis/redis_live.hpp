#pragma once
// SPEC §1 and §5 on Redis: a run's output in the stream PREFIX{KEY}:live. An entry's ID is
// "<fence>-<end>", the run's fence and the output offset after its bytes, so that trimming
// by MINID keeps a window of bytes, not of entries, and the next run's entries go after
// this run's in the same stream (the followers of the last run read on). Fields: f (the fence) and
// s (o or e, the stream) and d (the bytes) of a piece; p, a marker that publishing stopped for want
// of followers; e, h, t (exit status, has an outcome, total) of the end, which the finish script
// adds with the release.
//
// Each follower reads through a consumer group of its own (XREADGROUP ... NOACK), whose
// last-delivered-id tells the holder how far it has read (lua_scripts.hpp k_publish_live).

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "backend/redis/lua_script.hpp"
#include "backend/redis/redis_connection.hpp"
#include "core/live_output.hpp"

namespace lockrun {

// "<fence>-<offset>": the ID of the entry of run `fence` that ends at `offset` (an end: one
// past the last byte; a follower's start: 0).
std::string live_entry_id(std::uint64_t fence, std::uint64_t offset);

// The most output sent to the server and not yet answered before the holder waits for it.
inline constexpr std::uint64_t k_live_backlog_bytes = 4 << 20;

class RedisLivePublisher : public LivePublisher {
public:
    struct Target {
        std::string live_key;
        std::string lock_key;  // a holder that lost it publishes nothing more
        std::uint64_t fence = 0;
        Millis ttl{0};  // the stream's, renewed by each piece
        Millis io_timeout{0};
    };
    // `connection`: to the node that granted the lock, opened before the command starts,
    // so that no piece waits for it; nullopt: it could not be opened (nothing is published).
    RedisLivePublisher(std::optional<RedisConnection> connection, const LuaScript& script,
                       Target target);

    bool wants_bytes() const override { return publishing_; }
    void publish(OutputStream stream, std::string_view bytes) override;
    std::optional<std::uint64_t> published_total() const override {
        return publishing_ ? std::optional(offset_) : std::nullopt;
    }
    int poll_fd() const override { return connection_ ? connection_->fd() : -1; }
    short poll_events() const override;
    void on_ready() override;
    Deadline next_wakeup() const override;
    // While the server has not answered k_live_backlog_bytes (for one --io-timeout at most),
    // or a follower is a window behind (within the run's HoldBackBudget).
    bool holds_back() const override {
        return publishing_ && (stalled_since_.has_value() || (waits_.stalled() && waits_.allows()));
    }
    void flush(Deadline deadline) noexcept override;

private:
    // Queues the script for a piece (stream "o" or "e"), or for a look at the followers.
    void send_piece(std::string_view stream, std::string_view bytes);
    void send_look() { send_piece("", ""); }
    std::uint64_t backlog() const;
    // After sending or reading: starts or ends a stall, and gives up on one too long.
    void check_backlog();
    void read_replies();
    // The stream lives as long as its run, however long that prints nothing: its time to
    // live is renewed (PEXPIRE) a third of the way through, by a piece or else by this.
    void send_keep_alive();
    void answered(const RespValue& reply);
    void take_reply(const RespValue& reply);
    void stop() noexcept { publishing_ = false; }
    // The connection broke, or memory ran out: nothing more is sent or read.
    void give_up() noexcept;
    // Runs `talk` with the server; when it fails, or memory runs out, gives up: the output
    // matters more than its followers, and goes on without them.
    template <typename Talk>
    void or_give_up(Talk talk) noexcept {
        try {
            talk();
        } catch (const std::exception&) {  // Error, std::bad_alloc
            give_up();
        }
    }

    const LuaScript& script_;
    Target target_;
    std::string fence_text_;
    std::string ttl_text_;
    std::optional<RedisConnection> connection_;
    bool publishing_ = true;
    std::uint64_t offset_ = 0;
    // The calls sent and not yet answered: the bytes of each piece, or a keep-alive.
    struct Awaited {
        std::size_t bytes = 0;
        bool keep_alive = false;
    };
    std::deque<Awaited> awaited_;
    std::uint64_t awaited_bytes_ = 0;
    bool sent_source_ = false;  // the first call sends the script's text, which loads it
    std::optional<Clock::time_point> stalled_since_;  // the server lags
    HoldBackBudget waits_;                            // for followers that lag
    Deadline look_again_ = Deadline::never();         // at a follower that lags
    Deadline keep_alive_ = Deadline::never();
};

class RedisLiveFeed : public LiveFeed {
public:
    struct Calls {
        // Makes this follower's group; false: the stream is not one (another client's key).
        std::function<bool()> join;
        // XREADGROUP of what the group has not read yet, blocking up to the duration.
        std::function<RespValue(Millis)> read;
        // Destroys the group, so that the holder waits for it no more. `run_ended`: the run's
        // end was read, nobody waits for the group, and this caller is done with the
        // connection: sent without waiting for the answer. Never throws.
        std::function<void(bool run_ended)> leave;
        // Whether the run still holds the key (one status script: atomic).
        std::function<bool()> run_goes_on;
    };
    RedisLiveFeed(Calls calls, std::uint64_t fence, Millis longest_block)
        : calls_(std::move(calls)), fence_(fence), longest_block_(longest_block) {}
    ~RedisLiveFeed() override {
        // Not over a connection that just failed: it would wait for a server that is gone.
        if (joined_ && !broken_) calls_.leave(ended_);
    }
    RedisLiveFeed(const RedisLiveFeed&) = delete;
    RedisLiveFeed& operator=(const RedisLiveFeed&) = delete;

    LiveEvent next(std::uint64_t offset, Deadline deadline) override;
    bool run_goes_on() override { return calls_.run_goes_on(); }

private:
    struct Entry {
        std::uint64_t fence = 0;  // from the ID
        std::uint64_t end = 0;
        std::optional<std::string> fence_field, stream, bytes, paused, exit_status, has_outcome,
            total;
    };
    LiveEvent take(std::uint64_t offset);
    // The entries of an XREADGROUP reply; false when it is not one (the group is gone).
    bool buffer(const RespValue& reply);

    Calls calls_;
    std::uint64_t fence_;
    Millis longest_block_;
    bool joined_ = false;
    bool broken_ = false;  // a call failed: the group stays, and goes with the stream
    bool ended_ = false;   // the run's end was read
    std::deque<Entry> buffered_;
};

}  // namespace lockrun
