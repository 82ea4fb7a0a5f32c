#include "backend/redis/redis_backend.hpp"

#include "backend/redis/lua_scripts.hpp"
#include "backend/redis/script_replies.hpp"
#include "core/errors.hpp"
#include "core/single_flight.hpp"

namespace lockrun {

RedisBackend::RedisBackend(ConnectionSettings settings, std::string_view prefix,
                           std::string_view key, InterruptSource* interrupt)
    : settings_(std::move(settings)),
      keys_(redis_key_names(prefix, key)),
      interrupt_(interrupt),
      acquire_script_(lua::k_check_and_acquire),
      renew_script_(lua::k_renew),
      finish_script_(lua::k_finish),
      release_script_(lua::k_release),
      status_script_(lua::k_status),
      force_release_script_(lua::k_force_release) {}

RedisConnection& RedisBackend::connection(InterruptSource* interrupt) {
    if (!connection_) connection_.emplace(RedisConnection::open(settings_, interrupt));
    connection_->set_interrupt(interrupt);
    return *connection_;
}

RespValue RedisBackend::call_with_retry(const LuaScript& script,
                                        const std::vector<std::string_view>& keys,
                                        const std::vector<std::string_view>& args,
                                        InterruptSource* interrupt, bool* sent) {
    // Failing to connect is final; a connection lost after the request went out is retried
    // once, on a new connection: the reply may have been lost after the script ran, and
    // every script here may run twice with the same effect.
    RedisConnection& first = connection(interrupt);
    if (sent) *sent = true;
    try {
        return script.call(first, keys, args, Deadline::never());
    } catch (const BackendUnavailable&) {
        connection_.reset();
    }
    return script.call(connection(interrupt), keys, args, Deadline::never());
}

Acquisition RedisBackend::check_and_acquire(const AcquireRequest& request) {
    std::optional<std::string> unreadable;
    std::optional<Acquisition> acquisition =
        try_check_and_acquire(request, request.read_cache, unreadable);
    // A record we cannot decode is a miss: ask again without reading results.
    if (!acquisition) acquisition = try_check_and_acquire(request, false, unreadable);
    if (!acquisition)
        throw InternalError("check-and-acquire returned a result it was not asked for");
    acquisition->unreadable_record = unreadable;
    return std::move(*acquisition);
}

std::optional<Acquisition> RedisBackend::try_check_and_acquire(
    const AcquireRequest& request, bool read_cache, std::optional<std::string>& unreadable) {
    std::string lease_ms = std::to_string(request.lease.count());
    std::string waited_for =
        request.waited_for_fence ? std::to_string(*request.waited_for_fence) : "";
    std::string pid = std::to_string(request.holder.pid);
    std::string started = std::to_string(request.holder.started_unix_ms);
    RespValue reply = call_with_retry(
        acquire_script_, {keys_.lock, keys_.fence, keys_.out, keys_.last},
        {request.token, lease_ms, read_cache ? "1" : "0", waited_for, request.holder.host, pid,
         request.holder.user, request.holder.command, started},
        interrupt_, &may_hold_lock_);
    AcquireReply parsed = parse_check_and_acquire_reply(reply);
    if (parsed.unreadable_record) unreadable = parsed.unreadable_record;
    may_hold_lock_ =
        parsed.acquisition && std::holds_alternative<LockAcquired>(parsed.acquisition->outcome);
    return std::move(parsed.acquisition);
}

void RedisBackend::prepare_to_wait() {
    if (subscriber_) return;
    subscriber_.emplace(RedisConnection::open(settings_, interrupt_));
    RespValue reply = subscriber_->call({"SUBSCRIBE", keys_.released}, Deadline::never());
    if (reply.is_error()) {
        throw BackendUnavailable(subscriber_->where() + " refused SUBSCRIBE: " + reply.text);
    }
}

void RedisBackend::wait_for_release(Deadline deadline) {
    if (!subscriber_) throw InternalError("wait_for_release before prepare_to_wait");
    if (!subscriber_->read_reply(deadline)) return;
    // Several releases may have been announced; one look at the lock answers them all.
    while (subscriber_->try_read_reply()) {
    }
}

void RedisBackend::send_renewal(const std::string& token, Millis lease, Deadline deadline) {
    // A renewal still unanswered means the connection is stuck: start on a new one.
    if (pending_renewal_) connection_.reset();
    pending_renewal_.reset();
    PendingRenewal renewal{token, std::to_string(lease.count()), deadline};
    try {
        if (!connection_) {
            ConnectionSettings bounded = settings_;
            bounded.connect_timeout = std::min(settings_.connect_timeout, deadline.left());
            connection_.emplace(RedisConnection::open(bounded, nullptr));
        }
        connection_->set_interrupt(nullptr);
        renew_script_.send_by_sha(*connection_, {keys_.lock}, {renewal.token, renewal.lease_ms},
                                  deadline);
    } catch (const BackendUnavailable&) {
        connection_.reset();
        throw;
    }
    pending_renewal_ = std::move(renewal);
}

int RedisBackend::renewal_fd() const {
    return pending_renewal_ && connection_ ? connection_->fd() : -1;
}

std::optional<bool> RedisBackend::take_renewal_reply() {
    if (!pending_renewal_ || !connection_) return std::nullopt;
    std::optional<RespValue> reply;
    try {
        reply = connection_->try_read_reply();
        if (reply && LuaScript::is_noscript(*reply)) {
            // The server lost its script cache (a restart): send the text this time.
            renew_script_.send_by_source(*connection_, {keys_.lock},
                                         {pending_renewal_->token, pending_renewal_->lease_ms},
                                         pending_renewal_->deadline);
            return std::nullopt;
        }
    } catch (const BackendUnavailable&) {
        connection_.reset();
        pending_renewal_.reset();
        throw;
    }
    if (!reply) return std::nullopt;
    pending_renewal_.reset();
    return parse_renew_reply(*reply);
}

bool RedisBackend::finish(const FinishRequest& request) {
    // An unanswered renewal would answer in place of the finish script.
    if (pending_renewal_) {
        connection_.reset();
        pending_renewal_.reset();
    }
    std::string fence = std::to_string(request.fence);
    std::string ttl = std::to_string(request.cache_ttl.count());
    std::string shared_ttl = std::to_string(k_shared_outcome_ttl.count());
    const std::string empty;
    RespValue reply = call_with_retry(
        finish_script_, {keys_.lock, keys_.out, keys_.last},
        {request.token, fence, request.stored_record ? "1" : "0",
         request.stored_record ? *request.stored_record : empty, ttl,
         request.shared_record ? "1" : "0", request.shared_record ? *request.shared_record : empty,
         shared_ttl, keys_.released},
        nullptr);
    if (reply.is_error() && reply.text.starts_with("OOM")) {
        // Out of memory, Redis refused the whole script, stores included (nothing partial).
        // Releasing frees memory and must not wait for the lease: do only that.
        reply = call_with_retry(release_script_, {keys_.lock}, {request.token, keys_.released},
                                nullptr);
        may_hold_lock_ = false;
        parse_finish_reply(reply);
        throw BackendUnavailable(connection_->where() +
                                 " is out of memory (maxmemory): the lock was released but "
                                 "the result was not stored");
    }
    may_hold_lock_ = false;
    return parse_finish_reply(reply);
}

bool RedisBackend::renew_now(const std::string& token, Millis lease) {
    // An unanswered renewal would answer in place of this one.
    if (pending_renewal_) {
        connection_.reset();
        pending_renewal_.reset();
    }
    std::string lease_ms = std::to_string(lease.count());
    return parse_renew_reply(call_with_retry(renew_script_, {keys_.lock}, {token, lease_ms}, nullptr));
}

void RedisBackend::abandon(const std::string& token) noexcept {
    if (!may_hold_lock_) return;
    may_hold_lock_ = false;
    try {
        pending_renewal_.reset();
        connection_.reset();
        RedisConnection fresh = RedisConnection::open(settings_, nullptr);
        release_script_.call(fresh, {keys_.lock}, {token, keys_.released}, Deadline::never());
    } catch (...) {
        // Best effort: the lease frees the lock anyway.
    }
}

}  // namespace lockrun

namespace lockrun {

KeyStatus RedisBackend::read_status() {
    return parse_status_reply(
        call_with_retry(status_script_, {keys_.lock, keys_.out}, {}, interrupt_));
}

bool RedisBackend::drop_stored_result() {
    RespValue reply = connection(interrupt_).call({"DEL", keys_.out}, Deadline::never());
    if (reply.is_error()) throw BackendUnavailable("Redis refused DEL: " + reply.text);
    return reply.integer == 1;
}

std::vector<ListedKey> RedisBackend::list_keys() {
    throw InternalError("list is not implemented for the Redis backend yet");
}

bool RedisBackend::force_release() {
    return parse_finish_reply(
        call_with_retry(force_release_script_, {keys_.lock}, {keys_.released}, interrupt_));
}

}  // namespace lockrun
