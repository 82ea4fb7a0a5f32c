#include "backend/redis/redis_live.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>

#include "core/errors.hpp"

namespace lockrun {
namespace {

// The two numbers of an ID "<ms>-<seq>"; nullopt for any other text.
std::optional<std::pair<std::uint64_t, std::uint64_t>> id_parts(std::string_view id) {
    const std::size_t dash = id.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::uint64_t ms = 0, seq = 0;
    auto [ms_end, ms_error] = std::from_chars(id.data(), id.data() + dash, ms);
    auto [seq_end, seq_error] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
    if (ms_error != std::errc() || ms_end != id.data() + dash || seq_error != std::errc() ||
        seq_end != id.data() + id.size()) {
        return std::nullopt;
    }
    return std::pair{ms, seq};
}

std::optional<std::int64_t> number_of(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::int64_t n = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
    return n;
}

// How often a holder that waits for a follower looks whether it has caught up.
constexpr Millis k_look_interval{10};

}  // namespace

std::string live_entry_id(std::uint64_t fence, std::uint64_t offset) {
    return std::to_string(fence) + "-" + std::to_string(offset);
}

RedisLivePublisher::RedisLivePublisher(std::optional<RedisConnection> connection,
                                       const LuaScript& script, Target target)
    : script_(script),
      target_(std::move(target)),
      fence_text_(std::to_string(target_.fence)),
      ttl_text_(std::to_string(target_.ttl.count())),
      connection_(std::move(connection)),
      publishing_(connection_.has_value()),
      keep_alive_(Deadline::after(target_.ttl / 3)) {}

void RedisLivePublisher::publish(OutputStream stream, std::string_view bytes) {
    if (!publishing_ || bytes.empty()) return;
    offset_ += bytes.size();
    send_piece(stream == OutputStream::stdout_stream ? "o" : "e", bytes);
}

void RedisLivePublisher::send_piece(std::string_view stream, std::string_view bytes) {
    or_give_up([&] {
        // A look ends in a marker, should nobody follow any more: one past the last piece.
        const std::string id = live_entry_id(target_.fence, stream.empty() ? offset_ + 1 : offset_);
        const std::string minid = offset_ > k_live_window_bytes
                                      ? live_entry_id(target_.fence, offset_ - k_live_window_bytes)
                                      : std::string();
        const bool drop_laggards = waits_.stalled() && !waits_.allows();
        const std::vector<std::string_view> args{
            fence_text_, id,
            minid,       stream,
            bytes,       offset_ > k_live_head_bytes ? "1" : "0",
            ttl_text_,   drop_laggards ? "1" : "0"};
        const std::vector<std::string_view> keys{target_.live_key, target_.lock_key};
        // The first call carries the script's text (EVAL), which loads it; the others, queued
        // behind it on the same connection, call it by its SHA1.
        if (sent_source_) {
            script_.queue_by_sha(*connection_, keys, args);
        } else {
            script_.queue_by_source(*connection_, keys, args);
            sent_source_ = true;
        }
        awaited_.push_back({bytes.size(), false});
        awaited_bytes_ += bytes.size();
        keep_alive_ = Deadline::after(target_.ttl / 3);
        connection_->send_queued();
        read_replies();
    });
    check_backlog();
}

short RedisLivePublisher::poll_events() const {
    if (!connection_) return 0;
    return static_cast<short>(connection_->queue_waits_for() | (awaited_.empty() ? 0 : POLLIN));
}

void RedisLivePublisher::on_ready() {
    if (!connection_) return;
    or_give_up([this] {
        connection_->send_queued();
        read_replies();
    });
    check_backlog();
    // A follower lags and nothing is on its way that would say when it has caught up: look.
    if (publishing_ && waits_.stalled() && awaited_.empty() && look_again_.passed()) {
        look_again_ = Deadline::after(k_look_interval);
        send_look();
    }
    if (publishing_ && keep_alive_.passed()) send_keep_alive();
}

void RedisLivePublisher::send_keep_alive() {
    keep_alive_ = Deadline::after(target_.ttl / 3);
    or_give_up([this] {
        connection_->queue({"PEXPIRE", target_.live_key, ttl_text_});
        awaited_.push_back({0, true});
        connection_->send_queued();
    });
}

Deadline RedisLivePublisher::next_wakeup() const {
    Deadline wakeup =
        stalled_since_ ? Deadline(*stalled_since_ + target_.io_timeout) : Deadline::never();
    if (publishing_) wakeup = earliest(wakeup, keep_alive_);
    if (!waits_.stalled()) return wakeup;
    // While a reply is on its way, its arrival (POLLIN) is the wake-up, not a timer.
    if (awaited_.empty()) wakeup = earliest(wakeup, look_again_);
    return earliest(wakeup, waits_.runs_out());
}

std::uint64_t RedisLivePublisher::backlog() const {
    return connection_ ? connection_->queued_bytes() + awaited_bytes_ : 0;
}

void RedisLivePublisher::check_backlog() {
    if (!publishing_ || backlog() <= k_live_backlog_bytes) {
        stalled_since_.reset();
        return;
    }
    if (!stalled_since_) stalled_since_ = Clock::now();
    // A server that takes the output this much slower than the command makes it (paused,
    // overloaded): the run goes on without publishing; its followers see a gap. What is
    // queued is still sent (a command cut in half would garble the connection).
    if (Clock::now() - *stalled_since_ >= target_.io_timeout) {
        stop();
        stalled_since_.reset();
    }
}

void RedisLivePublisher::read_replies() {
    while (!awaited_.empty()) {
        std::optional<RespValue> reply = connection_->try_read_reply();
        if (!reply) return;
        answered(*reply);
    }
}

void RedisLivePublisher::answered(const RespValue& reply) {
    const Awaited call = awaited_.front();
    awaited_.pop_front();
    awaited_bytes_ -= call.bytes;
    // A keep-alive's answer says nothing of the followers.
    if (!call.keep_alive) take_reply(reply);
}

void RedisLivePublisher::take_reply(const RespValue& reply) {
    // 1: published; {2, position}: published, and a follower is a window behind; 0: nobody follows,
    // or the lock is another run's now; an error (NOSCRIPT after a SCRIPT FLUSH, a stream another
    // client wrote to, a server out of memory): the followers see a gap.
    if (reply.type == RespValue::Type::array && reply.elements.size() == 2 &&
        reply.elements[0].type == RespValue::Type::integer && reply.elements[0].integer == 2) {
        if (!waits_.stalled()) look_again_ = Deadline::after(k_look_interval);
        waits_.lagging(reply.elements[1].text);
        return;
    }
    const std::int64_t verdict = reply.type == RespValue::Type::integer ? reply.integer : -1;
    waits_.resume();
    if (verdict != 1) stop();
}

void RedisLivePublisher::flush(Deadline deadline) noexcept {
    if (!connection_) return;
    try {
        connection_->send_queued_by(deadline);
        while (!awaited_.empty()) {
            std::optional<RespValue> reply = connection_->read_reply(deadline);
            if (!reply) {
                give_up();
                return;
            }
            answered(*reply);
        }
    } catch (...) {
        give_up();
    }
}

void RedisLivePublisher::give_up() noexcept {
    stop();
    connection_.reset();
    awaited_.clear();
    awaited_bytes_ = 0;
}

LiveEvent RedisLiveFeed::next(std::uint64_t offset, Deadline deadline) {
    try {
        if (!joined_) {
            if (!calls_.join()) return LiveGap{};
            joined_ = true;
        }
        if (buffered_.empty()) {
            Millis block = std::min(deadline.left(), longest_block_);
            if (!buffer(calls_.read(block))) return LiveGap{};
            if (buffered_.empty()) return LiveNothingYet{};
        }
    } catch (const BackendUnavailable&) {
        broken_ = true;
        throw;
    }
    return take(offset);
}

bool RedisLiveFeed::buffer(const RespValue& reply) {
    if (reply.type == RespValue::Type::nil) return true;  // nothing within the block
    // [[key, [[id, [field, value, ...]], ...]]]
    if (reply.type != RespValue::Type::array || reply.elements.size() != 1) return false;
    const RespValue& keyed = reply.elements[0];
    if (keyed.type != RespValue::Type::array || keyed.elements.size() != 2 ||
        keyed.elements[1].type != RespValue::Type::array) {
        return false;
    }
    for (const RespValue& item : keyed.elements[1].elements) {
        if (item.type != RespValue::Type::array || item.elements.size() != 2) return false;
        auto id = id_parts(item.elements[0].text);
        const RespValue& fields = item.elements[1];
        if (!id || fields.type != RespValue::Type::array || fields.elements.size() % 2 != 0) {
            return false;
        }
        Entry entry;
        entry.fence = id->first;
        entry.end = id->second;
        for (std::size_t i = 0; i < fields.elements.size(); i += 2) {
            const std::string& name = fields.elements[i].text;
            std::optional<std::string>* slot = name == "f"   ? &entry.fence_field
                                               : name == "s" ? &entry.stream
                                               : name == "d" ? &entry.bytes
                                               : name == "p" ? &entry.paused
                                               : name == "e" ? &entry.exit_status
                                               : name == "h" ? &entry.has_outcome
                                               : name == "t" ? &entry.total
                                                             : nullptr;
            if (slot != nullptr) *slot = fields.elements[i + 1].text;
        }
        buffered_.push_back(std::move(entry));
    }
    return true;
}

LiveEvent RedisLiveFeed::take(std::uint64_t offset) {
    Entry entry = std::move(buffered_.front());
    buffered_.pop_front();
    // Another run's stream (a follower that came late), a marker, or anything not lockrun's
    // is a gap: never printed.
    if (entry.fence != fence_ ||
        number_of(entry.fence_field) != static_cast<std::int64_t>(fence_) || entry.paused) {
        return LiveGap{};
    }
    if (entry.exit_status) {
        std::optional<std::int64_t> status = number_of(entry.exit_status);
        std::optional<std::int64_t> total = number_of(entry.total);
        if (!status || !total || *total < 0) return LiveGap{};
        ended_ = true;
        return LiveEnd{static_cast<int>(*status), entry.has_outcome == "1",
                       static_cast<std::uint64_t>(*total), entry.has_outcome == "c"};
    }
    if (!entry.bytes || !entry.stream || (*entry.stream != "o" && *entry.stream != "e") ||
        entry.end < entry.bytes->size() || entry.end - entry.bytes->size() != offset) {
        buffered_.clear();
        return LiveGap{};
    }
    return LivePiece{
        *entry.stream == "o" ? OutputStream::stdout_stream : OutputStream::stderr_stream,
        std::move(*entry.bytes)};
}

}  // namespace lockrun
