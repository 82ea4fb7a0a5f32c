#include "backend/redis/redis_backend.hpp"

#include <algorithm>
#include <thread>

#include "backend/redis/cluster_redirect.hpp"
#include "backend/redis/key_listing.hpp"
#include "backend/redis/lua_scripts.hpp"
#include "backend/redis/redis_live.hpp"
#include "backend/redis/script_replies.hpp"
#include "backend/wait_for_fd.hpp"
#include "core/errors.hpp"
#include "core/holder_text.hpp"
#include "util/one_line.hpp"
#include "util/random_token.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {

namespace {
// The live stream outlives a dead holder by this much at most (each piece renews it), and
// goes this soon after a finished run (the shared outcome's TTL, SPEC §5 finish).
Millis live_stream_ttl(Millis lease) {
    return std::max(lease * 2, Millis(60'000));
}
}  // namespace

RedisBackend::RedisBackend(ConnectionSettings settings, std::string_view prefix,
                           std::string_view key, InterruptSource* interrupt, RecordSeal seal)
    : settings_(std::move(settings)),
      prefix_(prefix),
      key_(key),
      keys_(redis_key_names(prefix, key)),
      interrupt_(interrupt),
      acquire_script_(lua::k_check_and_acquire),
      renew_script_(lua::k_renew),
      finish_script_(lua::k_finish),
      release_script_(lua::k_release),
      status_script_(lua::k_status),
      force_release_script_(lua::k_force_release),
      acquire_slot_script_(lua::k_acquire_slot),
      renew_slot_script_(lua::k_renew_slot),
      release_slot_script_(lua::k_release_slot),
      publish_live_script_(lua::k_publish_live),
      follow_live_script_(lua::k_follow_live),
      seal_(std::move(seal)) {}

RedisConnection RedisBackend::open_connection(const ConnectionSettings& settings,
                                              InterruptSource* interrupt,
                                              const StepDeadline& step) const {
    RedisConnection c = RedisConnection::open(settings, interrupt, step);
    c.set_key_prefix(prefix_);
    return c;
}

StepDeadline RedisBackend::begin_step() const {
    return StepDeadline::starting_now(settings_.connect_timeout, settings_.io_timeout);
}

RedisConnection& RedisBackend::connection(InterruptSource* interrupt, const StepDeadline& step) {
    if (!connection_) {
        RedisNode before = connected_to_;
        connection_.emplace(open_to_owner(interrupt, step, connected_to_));
        // A subscription on the node we left (a failover) may never hear the release: the
        // next wait subscribes again, where we are now.
        if (subscriber_ && !before.host.empty() && before != connected_to_) subscriber_.reset();
    }
    connection_->set_interrupt(interrupt);
    return *connection_;
}

RedisConnection RedisBackend::open_to_owner(InterruptSource* interrupt, const StepDeadline& step,
                                            RedisNode& node) {
    const RedisUrl& url = settings_.url;
    if (url.transport == RedisUrl::Transport::unix_socket) {
        return open_connection(settings_, interrupt, step);
    }
    if (!url.sentinel_master.empty()) return open_master_via_sentinels(interrupt, step, node);
    // The owner a MOVED named, then the node that answered last, then the seeds: a dead
    // owner (a failover) sends us back to the seeds, which redirect again.
    std::vector<RedisNode> candidates;
    auto add = [&](const RedisNode& n) {
        if (!n.host.empty() && std::ranges::find(candidates, n) == candidates.end()) {
            candidates.push_back(n);
        }
    };
    if (owner_) add(*owner_);
    add(node);
    for (const RedisNode& seed : url.seeds()) add(seed);
    std::string tried;
    for (std::size_t i = 0;; ++i) {
        ConnectionSettings one = settings_;
        one.url = url.at(candidates[i]);
        try {
            RedisConnection c = open_connection(one, interrupt, step);
            if (owner_ && candidates[i] != *owner_) owner_.reset();
            node = candidates[i];
            return c;
        } catch (const BackendUnavailable& e) {
            // A dead node is skipped while the step lasts; the last one's error is the error.
            tried += (tried.empty() ? "" : ", ") + candidates[i].text();
            if (i + 1 == candidates.size() || step.at.passed()) {
                if (i == 0) throw;
                throw BackendUnavailable(std::string(e.what()) + " (tried " + tried + ")");
            }
        }
    }
}

RedisConnection RedisBackend::open_master_via_sentinels(InterruptSource* interrupt,
                                                        const StepDeadline& step, RedisNode& node) {
    const RedisUrl& url = settings_.url;
    const std::string& name = url.sentinel_master;
    std::string why;  // what each Sentinel said, for the message when none served
    int answered = 0, unknown = 0;
    // During a failover no Sentinel may name a master that answers as one for a second or
    // two: they are asked again, round after round, while the step lasts; but only once for
    // a renewal, whose caller must get back to the command (and tries again later).
    for (Millis pause{50};; pause = std::min(pause * 2, Millis(400))) {
        why.clear();
        answered = unknown = 0;
        if (std::optional<RedisConnection> m =
                ask_sentinels_once(interrupt, step, node, why, answered, unknown)) {
            return std::move(*m);
        }
        if (answered > 0 && unknown == answered) break;
        if (one_round_only_ || Deadline::after(pause).at() >= step.at.at()) break;
        std::this_thread::sleep_for(pause);
    }
    if (answered > 0 && unknown == answered) {
        throw ConfigError("no Sentinel of " + url.redacted() + " knows a master named '" + name +
                          "' (check the name after the hosts in --redis)" + why);
    }
    throw BackendUnavailable("no Sentinel of " + url.redacted() + " named a master of '" + name +
                             "' that answers as one" + why);
}

ConnectionSettings RedisBackend::sentinel_settings(const RedisNode& sentinel) const {
    ConnectionSettings to_sentinel = settings_;
    to_sentinel.url = settings_.url.at(sentinel);
    to_sentinel.url.user.clear();
    to_sentinel.url.password = settings_.sentinel_password;
    to_sentinel.url.db = 0;
    to_sentinel.password_from =
        "--sentinel-password-file or LOCKRUN_SENTINEL_PASSWORD, a Sentinel's own; the URL's "
        "is the master's";
    return to_sentinel;
}

bool RedisBackend::master_unchanged(Deadline deadline) const {
    if (settings_.url.sentinel_master.empty() || !connection_) return true;
    const StepDeadline bound = StepDeadline::bare(deadline);
    for (const RedisNode& sentinel : settings_.url.seeds()) {
        RespValue reply;
        try {
            reply = ask_sentinel(sentinel_settings(sentinel), nullptr, bound);
        } catch (const Error&) {
            continue;  // a Sentinel that does not answer says nothing either way
        }
        if (reply.type != RespValue::Type::array || reply.elements.size() != 2) continue;
        auto named = parse_cluster_redirect(
            "MOVED 0 " + reply.elements[0].text + ":" + reply.elements[1].text, sentinel.host);
        if (named) return named->node == connected_to_;
    }
    return true;
}

bool RedisBackend::lease_proves_exclusion() const {
    // A failover may promote a replica that never had the lock while the old master goes
    // on confirming renewals: with Sentinels, a cluster or replicas asked for, it proves
    // nothing.
    const RedisUrl& url = settings_.url;
    return url.sentinel_master.empty() && url.more_seeds.empty() && !owner_ &&
           !saw_cluster_reply_ && settings_.min_replicas == 0;
}

RespValue RedisBackend::ask_sentinel(const ConnectionSettings& to_sentinel,
                                     InterruptSource* interrupt, const StepDeadline& step) const {
    try {
        RedisConnection s = open_connection(to_sentinel, interrupt, step);
        return s.call({"SENTINEL", "get-master-addr-by-name", settings_.url.sentinel_master}, step);
    } catch (const ConfigError& e) {
        throw ConfigError("Sentinel " + std::string(e.what()));
    }
}

std::optional<RedisConnection> RedisBackend::ask_sentinels_once(InterruptSource* interrupt,
                                                                const StepDeadline& step,
                                                                RedisNode& node, std::string& why,
                                                                int& answered, int& unknown) {
    const RedisUrl& url = settings_.url;
    const std::string& name = url.sentinel_master;
    for (const RedisNode& sentinel : url.seeds()) {
        ConnectionSettings to_sentinel = sentinel_settings(sentinel);
        try {
            std::optional<RedisNode> master;
            {
                RespValue reply = ask_sentinel(to_sentinel, interrupt, step);
                ++answered;
                if (reply.type == RespValue::Type::array && reply.elements.size() == 2) {
                    auto named = parse_cluster_redirect(
                        "MOVED 0 " + reply.elements[0].text + ":" + reply.elements[1].text,
                        sentinel.host);
                    if (named) master = named->node;
                }
                if (!master) {
                    ++unknown;
                    why += "; " + sentinel.text() + " knows no master '" + name + "'" +
                           (reply.is_error() ? " (" + one_line(reply.text) + ")" : "");
                    continue;
                }
            }
            ConnectionSettings to_master = settings_;
            to_master.url = url.at(*master);
            RedisConnection m = open_connection(to_master, interrupt, step);
            std::optional<RespValue> role;
            try {
                role = m.call({"ROLE"}, step);
            } catch (const ConfigError&) {
                // An ACL without ROLE (managed services forbid @admin): the Sentinels are
                // trusted, and a replica's READONLY sends us back to them.
                node = *master;
                return m;
            }
            if (role->type == RespValue::Type::array && !role->elements.empty() &&
                role->elements[0].text == "master") {
                node = *master;
                return m;
            }
            // Mid-failover: the Sentinel has not heard of the promotion yet.
            why += "; " + sentinel.text() + " named " + master->text() + ", which is no master";
        } catch (const BackendUnavailable& e) {
            why += "; " + std::string(e.what());
        }
        if (step.at.passed()) break;
    }
    return std::nullopt;
}

namespace {

// A replica's refusal of a write: READONLY, or (Redis 6.x) a script error that carries it.
bool is_readonly(const RespValue& reply) {
    return reply.is_error() && (reply.text.starts_with("READONLY") ||
                                reply.text.find("-READONLY") != std::string::npos);
}

// What a node sends a sharded subscriber when KEY's slot leaves it (a migration, a
// failover): the subscription is gone.
bool is_slot_left_notice(const RespValue& pushed) {
    return pushed.type == RespValue::Type::array && !pushed.elements.empty() &&
           pushed.elements[0].text == "sunsubscribe";
}

// How many redirects one request may follow: a slot being migrated costs two (MOVED to the
// old owner's successor, ASK to the importing node); more is a loop of nodes that disagree.
constexpr int k_max_redirects = 5;
constexpr Millis k_first_backoff{10};
constexpr Millis k_max_backoff{200};

}  // namespace

RespValue RedisBackend::routed(const std::function<RespValue(RedisConnection&)>& send,
                               InterruptSource* interrupt, const StepDeadline& step,
                               Deadline stop_retrying) {
    std::optional<RedisConnection> asking;  // opened for one ASK
    RedisNode asked;
    std::string visited;
    Millis backoff = k_first_backoff;
    const Deadline retry_until = earliest(stop_retrying, step.at);
    served_by_ask_.reset();
    for (int redirects = 0;;) {
        RedisConnection& c = asking ? *asking : connection(interrupt, step);
        const RedisNode& node = asking ? asked : connected_to_;
        RespValue reply = send(c);
        if (!reply.is_error()) {
            // A WAIT for this write must go where it was made (--min-replicas).
            if (asking) served_by_ask_ = std::move(asking);
            return reply;
        }
        if (is_cluster_retry_later(reply.text)) {
            saw_cluster_reply_ = true;
            if (Deadline::after(backoff).at() >= retry_until.at()) {
                throw ClusterBusy("the Redis Cluster node " + node.text() + " kept answering " +
                                  one_line(reply.text) + " for " +
                                  format_duration(step.total - step.at.left()) + ": the slot of " +
                                  key_ + " is not served (a failover or a migration under way?)");
            }
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, k_max_backoff);
            continue;
        }
        if (is_readonly(reply) && !settings_.url.sentinel_master.empty() && !asking &&
            ++redirects <= k_max_redirects) {
            // A master demoted by a failover: ask the Sentinels again.
            connection_.reset();
            continue;
        }
        std::optional<ClusterRedirect> redirect = parse_cluster_redirect(reply.text, node.host);
        if (!redirect) return reply;
        saw_cluster_reply_ = true;
        visited += (visited.empty() ? node.text() : "") + " -> " + redirect->node.text();
        if (++redirects > k_max_redirects) {
            throw ClusterRedirectLoop("the Redis Cluster sent the request for " + key_ +
                                      " from node to node without serving it (" + visited +
                                      "): its nodes disagree on who owns the slot (check "
                                      "CLUSTER SHARDS on each)");
        }
        if (redirect->kind == ClusterRedirect::Kind::moved) {
            // The slot's new owner, for the rest of the run.
            owner_ = redirect->node;
            connection_.reset();
            asking.reset();
            continue;
        }
        asking.emplace(open_asking(redirect->node, interrupt, step));
        asked = redirect->node;
    }
}

RedisConnection RedisBackend::open_asking(const RedisNode& node, InterruptSource* interrupt,
                                          const StepDeadline& step) const {
    ConnectionSettings there = settings_;
    there.url = settings_.url.at(node);
    RedisConnection c = open_connection(there, interrupt, step);
    c.ask_before_each_command();
    return c;
}

RespValue RedisBackend::call_with_retry(const LuaScript& script,
                                        const std::vector<std::string_view>& keys,
                                        const std::vector<std::string_view>& args,
                                        InterruptSource* interrupt, const StepDeadline& step,
                                        bool* sent, Deadline stop_retrying) {
    // Failing to connect is final; a connection lost (or silent) after the request went out
    // is retried once, on a new connection: the reply may have been lost after the script
    // ran, and every script here may run twice with the same effect. The retry gets what is
    // left of the step, no more.
    failed_step_ = step;
    connection(interrupt, step);
    if (sent) *sent = true;
    auto send = [&](RedisConnection& c) { return script.call(c, keys, args, step); };
    try {
        RespValue reply = routed(send, interrupt, step, stop_retrying);
        failed_step_.reset();
        throw_if_foreign_key(reply, step);
        return reply;
    } catch (const ServerRefused&) {
        // The server answered (and hung up): the same request would get the same answer.
        connection_.reset();
        throw;
    } catch (const ClusterBusy&) {
        throw;  // retried already, for as long as it could be
    } catch (const ClusterRedirectLoop&) {
        throw;  // it would go round again
    } catch (const BackendUnavailable&) {
        connection_.reset();
        if (step.at.passed()) throw;
    }
    RespValue reply = routed(send, interrupt, step, stop_retrying);
    failed_step_.reset();
    throw_if_foreign_key(reply, step);
    return reply;
}

void RedisBackend::throw_if_foreign_key(const RespValue& reply, const StepDeadline& step) {
    if (!reply.is_error()) return;
    // The one counter the scripts INCR is the fence: a string that is not a number, or one
    // at the largest, was written by another client (or by one that set it by hand).
    if (reply.text.starts_with("ERR value is not an integer")) {
        throw ConfigError("the key " + keys_.fence +
                          " is not a lockrun fencing counter: it does not hold an integer "
                          "(remove it with DEL)");
    }
    if (reply.text.starts_with("ERR increment or decrement would overflow")) {
        throw ConfigError("the fencing counter " + keys_.fence +
                          " is at its largest value (remove it with DEL: the fences of " + key_ +
                          " then start again from the time in milliseconds, lower than before)");
    }
    if (!reply.text.starts_with("WRONGTYPE")) return;
    // Another client wrote one of KEY's names with a type lockrun does not use: find which,
    // to say what it is and how to remove it (the scripts' reply names no key).
    struct Expected {
        const std::string& name;
        std::string_view type;
        std::string_view what;
        std::string removal;
    };
    const Expected expected[] = {
        {keys_.lock, "hash", "lock", "`lockrun release " + key_ + " --force`, or DEL"},
        {keys_.out, "string", "result", "`lockrun cache drop " + key_ + "`, or DEL"},
        {keys_.fence, "string", "fencing counter", "DEL"},
        {keys_.last, "hash", "outcome record", "DEL"},
        {keys_.holders, "zset", "semaphore", "`lockrun release " + key_ + " --force`, or DEL"},
        {keys_.holder, "hash", "semaphore's holders",
         "`lockrun release " + key_ + " --force`, or DEL"},
        {keys_.writer, "string", "writer's mark", "DEL"},
    };
    try {
        RedisConnection& c = connection(interrupt_, step);
        for (const Expected& e : expected) {
            RespValue type = c.call({"TYPE", e.name}, step);
            if (type.is_error() || type.text == "none" || type.text == e.type) continue;
            throw ConfigError("the key " + e.name + " is a " + one_line(type.text) +
                              ", not a lockrun " + std::string(e.what) + " (remove it with " +
                              e.removal + ")");
        }
    } catch (const BackendUnavailable&) {
        connection_.reset();
    }
    throw ConfigError("a key of " + key_ + " under " + prefix_ +
                      " is not lockrun's: Redis answered " + reply.text +
                      " (remove it with `lockrun release " + key_ +
                      " --force` and `lockrun cache drop " + key_ + "`, or DEL)");
}

Acquisition RedisBackend::check_and_acquire(const AcquireRequest& request) {
    const StepDeadline step = begin_step();
    std::optional<std::string> unreadable;
    std::optional<Acquisition> acquisition =
        try_check_and_acquire(request, request.read_cache, unreadable, step);
    // A lock taken on a master that a failover has replaced (it stays writable for seconds,
    // and this connection may predate the failover) is no lock: given back there, and taken
    // again where the Sentinels say the master is now.
    if (acquisition && std::holds_alternative<LockAcquired>(acquisition->outcome) &&
        !master_unchanged(step.at)) {
        try {
            free_script().call(*connection_, lease_keys(), {request.token, keys_.released}, step);
        } catch (const Error&) {
            // The stale master's copy expires with its lease; nobody uses that node now.
        }
        connection_.reset();
        may_hold_lock_ = false;
        acquisition = try_check_and_acquire(request, request.read_cache, unreadable, step);
        if (acquisition && std::holds_alternative<LockAcquired>(acquisition->outcome) &&
            !master_unchanged(step.at)) {
            throw BackendUnavailable("the Sentinels of " + settings_.url.redacted() +
                                     " keep naming another master than the one that granted "
                                     "the lock (a failover under way?)");
        }
    }
    // A record we cannot decode is a miss: ask again without reading results, in the same step.
    if (!acquisition) acquisition = try_check_and_acquire(request, false, unreadable, step);
    if (!acquisition)
        throw InternalError("check-and-acquire returned a result it was not asked for");
    acquisition->unreadable_record = unreadable;
    return std::move(*acquisition);
}

std::optional<Acquisition> RedisBackend::try_check_and_acquire(
    const AcquireRequest& request, bool read_cache, std::optional<std::string>& unreadable,
    const StepDeadline& step) {
    std::string lease_ms = std::to_string(request.lease.count());
    std::string waited_for =
        request.waited_for_fence ? std::to_string(*request.waited_for_fence) : "";
    std::string pid = std::to_string(request.holder.pid);
    std::string started = std::to_string(request.holder.started_unix_ms);
    semaphore_ = request.max_holders > 1 || request.shared;
    // How long this caller waits: a writer's mark that keeps new readers out (--shared)
    // lasts no longer.
    const std::string writer_mark_ms =
        request.wait_left == k_infinite ? "-1" : std::to_string(request.wait_left.count());
    const std::string capacity = request.shared ? "1000000" : std::to_string(request.max_holders);
    RespValue reply =
        semaphore_
            ? call_with_retry(acquire_slot_script_,
                              {keys_.holders, keys_.holder, keys_.fence, keys_.lock, keys_.writer},
                              {request.token, lease_ms, request.shared ? "shared" : capacity,
                               request.holder.host, pid, request.holder.user,
                               request.holder.command, started, key_, capacity},
                              interrupt_, step, &may_hold_lock_)
            : call_with_retry(
                  acquire_script_,
                  {keys_.lock, keys_.fence, keys_.out, keys_.last, keys_.holders, keys_.holder,
                   keys_.writer},
                  {request.token, lease_ms, read_cache ? "1" : "0", waited_for, request.holder.host,
                   pid, request.holder.user, request.holder.command, started, key_, writer_mark_ms,
                   request.publishes_live ? "1" : "0", may_have_writer_mark_ ? "1" : "0"},
                  interrupt_, step, &may_hold_lock_);
    AcquireReply parsed =
        parse_check_and_acquire_reply(reply, seal_, {keys_.out, keys_.last, unix_now_ms()});
    if (parsed.max_holders_in_force) {
        may_hold_lock_ = false;
        throw UsageError(max_holders_conflict(key_, *parsed.max_holders_in_force,
                                              hold_kind(request.max_holders, request.shared)));
    }
    reject_foreign_shared_outcome(parsed, request.waited_for_fence);
    if (parsed.unreadable_record) unreadable = parsed.unreadable_record;
    may_hold_lock_ =
        parsed.acquisition && std::holds_alternative<LockAcquired>(parsed.acquisition->outcome);
    if (!semaphore_ && request.wait_left != Millis(0) && parsed.acquisition &&
        std::holds_alternative<LockHeld>(parsed.acquisition->outcome)) {
        may_have_writer_mark_ = true;
    }
    // The caller abandons the lock when this throws: nothing stays held.
    if (may_hold_lock_) {
        require_replicas("the lock on " + key_, "released it without running the command", step);
    }
    return std::move(parsed.acquisition);
}

void RedisBackend::require_replicas(const std::string& what, const std::string& so,
                                    const StepDeadline& step) {
    if (settings_.min_replicas == 0) return;
    // WAIT counts the replicas that have this client's last write on this connection: after
    // an ASK, the importing node's.
    std::optional<RedisConnection>& writer = served_by_ask_ ? served_by_ask_ : connection_;
    if (!writer) throw NotReplicated("no connection to ask for replicas of " + what + ": " + so);
    // WAIT's own timeout ends before the reply's deadline (the step, and --io-timeout), so
    // that its answer, whatever it is, still arrives; it is never 0, which waits forever.
    Millis left = std::min(step.at.left(), settings_.io_timeout);
    Millis timeout = std::max(Millis(1), left - std::min(left / 4, Millis(200)));
    std::string wanted = std::to_string(settings_.min_replicas);
    std::string timeout_ms = std::to_string(timeout.count());
    RespValue reply;
    try {
        reply = writer->call({"WAIT", wanted, timeout_ms}, step);
    } catch (const BackendUnavailable& e) {
        // No answer is no acknowledgement: the same error as too few (never a reason to run
        // unguarded, never a "release failed").
        std::string where = writer->where();
        writer.reset();
        throw NotReplicated("WAIT for the " + wanted + " replicas that --min-replicas asks for (" +
                            where + ") got no answer: " + e.what() + "; " + so);
    }
    if (reply.is_error()) {
        throw NotReplicated(writer->where() +
                            " refused WAIT for --min-replicas: " + one_line(reply.text));
    }
    if (reply.integer >= settings_.min_replicas) return;
    throw NotReplicated(std::to_string(reply.integer) + " of the " + wanted +
                        " replicas that --min-replicas asks for acknowledged " + what + " within " +
                        format_duration(timeout) + " (" + writer->where() + "): " + so);
}

void RedisBackend::prepare_to_wait() {
    if (subscriber_) return;
    const StepDeadline step = begin_step();
    // The node that answered the look (the slot's owner, on a cluster) first.
    RedisNode node = connected_to_;
    RedisConnection subscriber = open_to_owner(interrupt_, step, node);
    if (wake_ups_ == WakeUps::undecided) decide_wake_ups(subscriber, step);
    for (int redirects = 0; wake_ups_ == WakeUps::sharded;) {
        RespValue reply;
        try {
            reply = subscriber.call({"SSUBSCRIBE", keys_.released}, step);
        } catch (const ConfigError&) {
            // An ACL granting +subscribe but not +ssubscribe (what lockrun 0.1 asked for).
            wake_ups_ = WakeUps::global;
            wake_ups_why_ = "the ACL of this user forbids SSUBSCRIBE";
            break;
        }
        if (!reply.is_error()) {
            // Global too, on the same connection: a release made through ASK on the node
            // the slot is moving to, or by a holder that only PUBLISHes, is not in this
            // shard's channel.
            RespValue global;
            try {
                global = subscriber.call({"SUBSCRIBE", keys_.released}, step);
            } catch (const ConfigError&) {
                global = RespValue::of_status("OK");  // an ACL without +subscribe: sharded only
            }
            if (global.is_error()) {
                throw BackendUnavailable(subscriber.where() +
                                         " refused SUBSCRIBE: " + one_line(global.text));
            }
            subscribed_at_ = subscriber.where();
            subscriber_.emplace(std::move(subscriber));
            return;
        }
        std::optional<ClusterRedirect> redirect = parse_cluster_redirect(reply.text, node.host);
        if (redirect && redirect->kind == ClusterRedirect::Kind::moved &&
            ++redirects <= k_max_redirects) {
            owner_ = redirect->node;
            subscriber = open_to_owner(interrupt_, step, node);
            continue;
        }
        // An older node (a cluster being upgraded), a slot on the move: every release is
        // published globally too, which reaches a subscriber on any node.
        wake_ups_ = WakeUps::global;
        wake_ups_why_ = node.text() + " refused SSUBSCRIBE (" + one_line(reply.text) + ")";
    }
    RespValue reply = subscriber.call({"SUBSCRIBE", keys_.released}, step);
    if (reply.is_error()) {
        throw BackendUnavailable(subscriber.where() + " refused SUBSCRIBE: " + reply.text);
    }
    subscribed_at_ = subscriber.where();
    subscriber_.emplace(std::move(subscriber));
}

void RedisBackend::decide_wake_ups(RedisConnection& c, const StepDeadline& step) {
    const RedisUrl& url = settings_.url;
    bool cluster = saw_cluster_reply_ || owner_.has_value();
    if (!cluster && url.sentinel_master.empty() &&
        url.transport != RedisUrl::Transport::unix_socket) {
        // A cluster whose seed owns the slot never redirected us: ask.
        try {
            RespValue info = c.call({"INFO", "cluster"}, step);
            cluster = !info.is_error() && info.text.find("cluster_enabled:1") != std::string::npos;
        } catch (const ConfigError&) {
            // An ACL without INFO: global pub/sub, which works everywhere.
            wake_ups_ = WakeUps::global;
            wake_ups_why_ = "INFO is not allowed to this user, so a cluster cannot be told apart";
            return;
        }
    }
    wake_ups_ = cluster ? WakeUps::sharded : WakeUps::global;
    wake_ups_why_ = cluster ? "a Redis Cluster" : "not a Redis Cluster";
}

std::string RedisBackend::how_waiters_are_woken() const {
    if (subscribed_at_.empty()) return {};
    return std::string(wake_ups_ == WakeUps::sharded
                           ? "sharded and global pub/sub (SSUBSCRIBE and SUBSCRIBE)"
                           : "global pub/sub (SUBSCRIBE)") +
           " on " + subscribed_at_ + " (" + wake_ups_why_ + ")";
}

void RedisBackend::wait_for_release(Deadline deadline) {
    if (!subscriber_) {
        // The subscription was lost with its server (below): subscribe again, and return at
        // once, so that the caller looks again with the wake-up armed (SPEC §5).
        try {
            prepare_to_wait();
        } catch (const BackendUnavailable&) {
            // Where a failover can happen, the caller waits it out (it looks again after
            // this, while --wait lasts); on one server the error is the end.
            if (lease_proves_exclusion()) throw;
            wait_for_fd(-1, 0, deadline, interrupt_);
        }
        return;
    }
    try {
        std::optional<RespValue> woken = subscriber_->read_reply(deadline);
        if (!woken) return;
        // Several releases may have been announced; one look at the lock answers them all.
        bool slot_left = is_slot_left_notice(*woken);
        while (std::optional<RespValue> more = subscriber_->try_read_reply()) {
            slot_left = slot_left || is_slot_left_notice(*more);
        }
        // The slot moved to another node: the caller looks again (a MOVED names the node),
        // and the next wait subscribes there.
        if (slot_left) subscriber_.reset();
    } catch (const BackendUnavailable&) {
        // A failover, a node that died (SPEC §8: a waiter survives it): the caller looks
        // again, its next step finds the new master, and the next wait subscribes there.
        subscriber_.reset();
        connection_.reset();
    }
}

void RedisBackend::send_renewal(const std::string& token, Millis lease, Deadline deadline) {
    // A renewal still unanswered means the connection is stuck: start on a new one.
    if (pending_renewal_) connection_.reset();
    pending_renewal_.reset();
    PendingRenewal renewal{token, std::to_string(lease.count()), deadline};
    try {
        if (!connection_) {
            // Within --io-timeout at most, and one round of the Sentinels: the run loop waits
            // on this, and the lease keeper tries again.
            one_round_only_ = true;
            struct Reset {
                bool& flag;
                ~Reset() { flag = false; }
            } reset{one_round_only_};
            connection(nullptr, StepDeadline::bare(
                                    earliest(deadline, Deadline::after(settings_.io_timeout))));
        }
        connection_->set_interrupt(nullptr);
        lease_script().send_by_sha(*connection_, lease_keys(), {renewal.token, renewal.lease_ms},
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
        if (reply && pending_renewal_->sent_by_source) {
            LuaScript::throw_if_noscript_again(*connection_, *reply);
        }
        if (reply && reply->is_error()) {
            if (auto redirect = parse_cluster_redirect(reply->text, connected_to_.host)) {
                // The slot moved (or is moving) while the command ran: the renewal goes
                // there, still answered later, so that the run loop never waits on it.
                resend_renewal_to(*redirect);
                return std::nullopt;
            }
            if (is_readonly(*reply)) {
                // A demoted master: the next renewal asks the Sentinels again.
                throw BackendUnavailable(connected_to_.text() +
                                         " is a replica now (READONLY): the master moved");
            }
            if (is_cluster_retry_later(reply->text)) {
                // Not served now: a failed renewal, which the lease keeper tries again.
                throw BackendUnavailable(connected_to_.text() + " answered the renewal with " +
                                         one_line(reply->text));
            }
        }
        if (reply && LuaScript::is_header_refused(*reply) &&
            !connection_->scripts_without_header()) {
            // A server without "#!lua" (Redis 6.x): the same renewal, without that line.
            connection_->send_scripts_without_header();
            pending_renewal_->sent_by_source = false;
            lease_script().send_by_sha(*connection_, lease_keys(),
                                       {pending_renewal_->token, pending_renewal_->lease_ms},
                                       pending_renewal_->deadline);
            return std::nullopt;
        }
        if (reply && LuaScript::is_noscript(*reply)) {
            pending_renewal_->sent_by_source = true;
            // The server lost its script cache (a restart): send the text this time.
            lease_script().send_by_source(*connection_, lease_keys(),
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
    bool renewed = parse_renew_reply(*reply);
    // A master that a failover replaced may go on confirming renewals for seconds: the
    // Sentinels are asked, quickly, whether this is still the master. If not, this counts
    // as a failed renewal; the next one goes to the new master, where the lock is ours or
    // gone (then 76).
    if (renewed && !master_unchanged(Deadline::after(settings_.io_timeout))) {
        std::string old = connected_to_.text();
        connection_.reset();
        throw BackendUnavailable("the Sentinels no longer name " + old +
                                 " as the master: renewing on the new one");
    }
    return renewed;
}

void RedisBackend::resend_renewal_to(const ClusterRedirect& redirect) {
    PendingRenewal renewal = std::move(*pending_renewal_);
    pending_renewal_.reset();
    connection_.reset();
    const StepDeadline step = StepDeadline::bare(renewal.deadline);
    if (redirect.kind == ClusterRedirect::Kind::moved) {
        owner_ = redirect.node;
        connection(nullptr, step);
    } else {
        connection_.emplace(open_asking(redirect.node, nullptr, step));
        connected_to_ = redirect.node;
    }
    renewal.sent_by_source = false;
    lease_script().send_by_sha(*connection_, lease_keys(), {renewal.token, renewal.lease_ms},
                               renewal.deadline);
    pending_renewal_ = std::move(renewal);
}

bool RedisBackend::finish(const FinishRequest& request) {
    const StepDeadline step = begin_step();
    // An unanswered renewal would answer in place of the finish script.
    if (pending_renewal_) {
        connection_.reset();
        pending_renewal_.reset();
    }
    std::string fence = std::to_string(request.fence);
    std::string ttl = std::to_string(request.cache_ttl.count());
    std::string shared_ttl = std::to_string(request.shared_ttl.count());
    const std::int64_t now = unix_now_ms();
    const std::string stored = request.stored_record ? seal_.seal(*request.stored_record, keys_.out,
                                                                  now + request.cache_ttl.count())
                                                     : "";
    const std::string shared =
        request.shared_record
            ? seal_.seal(*request.shared_record, keys_.last, now + request.shared_ttl.count())
            : "";
    // Released where the Sentinels say the master is: on a master a failover replaced, the
    // release would succeed and prove nothing.
    if (!master_unchanged(step.at)) connection_.reset();
    if (semaphore_) {
        // A semaphore stores nothing (SPEC §9): its slot is freed, and the waiters woken.
        const bool was_ours = parse_finish_reply(call_with_retry(
            free_script(), lease_keys(), {request.token, keys_.released}, nullptr, step));
        may_hold_lock_ = false;
        return was_ours;
    }
    std::string refusal;
    // A slot being migrated answers TRYAGAIN to a script of several keys for as long as the
    // migration lasts: half the step is given to it, the rest to releasing the lock alone.
    const Deadline stop_retrying = Deadline::after(step.at.left() / 2);
    // The run's end, after every piece of its output in the live stream (SPEC §1).
    std::string end_id, end_status, end_total;
    if (request.live_end) {
        end_id = live_entry_id(request.fence, request.live_end->total_bytes + 1);
        end_status = std::to_string(request.live_end->exit_status);
        end_total = std::to_string(request.live_end->total_bytes);
    }
    // "h": 1 with an outcome, 0 without, c for output cut short (an older follower reads
    // no outcome).
    const char* end_outcome = !request.live_end               ? "0"
                              : request.live_end->output_cut  ? "c"
                              : request.live_end->has_outcome ? "1"
                                                              : "0";
    try {
        RespValue reply =
            call_with_retry(finish_script_, {keys_.lock, keys_.out, keys_.last, keys_.live},
                            {request.token, fence, request.stored_record ? "1" : "0", stored, ttl,
                             request.shared_record ? "1" : "0", shared, shared_ttl, keys_.released,
                             end_id, end_status, end_outcome, end_total},
                            nullptr, step, nullptr, stop_retrying);
        if (!reply.is_error()) {
            may_hold_lock_ = false;
            bool was_ours = parse_finish_reply(reply);
            if (was_ours && request.stored_record) {
                require_replicas("the result of " + key_,
                                 "it is stored and the lock released, but a failover now may "
                                 "lose it",
                                 step);
            }
            return was_ours;
        }
        refusal = reply.text;
    } catch (const ServerRefused& refused) {
        refusal = refused.reply();
    } catch (const ClusterBusy& busy) {
        refusal = busy.what();
    }
    // Redis refused the whole script (out of memory, a record over its proto-max-bulk-len,
    // anything): nothing was written. The waiters must not wait for the lease: release only
    // (allow-oom, storing nothing), on a new connection (a refused request may have ended the
    // old one), in what is left of the step.
    connection_.reset();
    RespValue released = call_with_retry(free_script(), lease_keys(),
                                         {request.token, keys_.released}, nullptr, step);
    may_hold_lock_ = false;
    // Not ours: nothing was stored either way, and the caller says what that means.
    if (!parse_finish_reply(released)) return false;
    const std::string why = refusal.starts_with("OOM")
                                ? " is out of memory (maxmemory)"
                                : " refused to store the result (" + refusal + ")";
    throw ResultNotStored(settings_.url.redacted() + why +
                          ": the lock was released but the result was not stored");
}

bool RedisBackend::renew_now(const std::string& token, Millis lease) {
    const StepDeadline step = begin_step();
    // An unanswered renewal would answer in place of this one.
    if (pending_renewal_) {
        connection_.reset();
        pending_renewal_.reset();
    }
    std::string lease_ms = std::to_string(lease.count());
    return parse_renew_reply(
        call_with_retry(lease_script(), lease_keys(), {token, lease_ms}, nullptr, step));
}

void RedisBackend::abandon(const std::string& token) noexcept {
    if (!may_hold_lock_) return;
    may_hold_lock_ = false;
    try {
        // Right after a step that failed, the release is the end of that step: a server that
        // did not answer within it costs no more time here (the lease frees the lock). Else
        // it is a step of its own.
        const StepDeadline step = failed_step_ ? *failed_step_ : begin_step();
        failed_step_.reset();
        if (step.at.passed()) return;
        pending_renewal_.reset();
        connection_.reset();
        routed(
            [&](RedisConnection& c) {
                return free_script().call(c, lease_keys(), {token, keys_.released}, step);
            },
            nullptr, step);
    } catch (...) {
        // Best effort: the lease frees the lock anyway.
    }
}

KeyStatus RedisBackend::read_status() {
    const StepDeadline step = begin_step();
    return parse_status_reply(
        call_with_retry(status_script_, {keys_.lock, keys_.out, keys_.holders, keys_.holder}, {},
                        interrupt_, step),
        seal_, {keys_.out, keys_.last, unix_now_ms()});
}

bool RedisBackend::drop_stored_result() {
    const StepDeadline step = begin_step();
    RespValue reply;
    try {
        reply = routed(
            [&](RedisConnection& c) {
                return c.call({"DEL", keys_.out}, step);
            },
            interrupt_, step);
    } catch (const BackendUnavailable&) {
        // A reply still on its way would be read as the next command's.
        connection_.reset();
        throw;
    }
    if (reply.is_error()) throw BackendUnavailable("Redis refused DEL: " + reply.text);
    return reply.integer == 1;
}

bool RedisBackend::claim_refresh(Millis period) {
    const StepDeadline step = begin_step();
    const std::string period_ms = std::to_string(std::max<std::int64_t>(1, period.count()));
    RespValue reply;
    try {
        reply = routed(
            [&](RedisConnection& c) {
                return c.call({"SET", keys_.refresh, key_, "NX", "PX", period_ms}, step);
            },
            interrupt_, step);
    } catch (const BackendUnavailable&) {
        connection_.reset();  // a reply still on its way would be read as the next command's
        throw;
    }
    if (reply.is_error()) throw BackendUnavailable("Redis refused SET: " + one_line(reply.text));
    return reply.type == RespValue::Type::status;  // OK; nil: claimed by another
}

bool RedisBackend::force_release() {
    const StepDeadline step = begin_step();
    return parse_finish_reply(call_with_retry(
        force_release_script_, {keys_.lock, keys_.holders, keys_.holder, keys_.writer},
        {keys_.released}, interrupt_, step));
}

std::vector<ListedKey> RedisBackend::list_keys() {
    // A step per SCAN batch (the SCAN call and the status reads of the keys it names), not one
    // for the whole listing: a listing's length grows with the keyspace, so no fixed bound
    // could cover it, while each batch is one or two round trips like any other step. A
    // server that stops answering still ends the listing within one step. SCAN sees one
    // node's keys: on a cluster, every master is scanned.
    std::set<std::string> seen;
    std::vector<ListedKey> listed;
    std::vector<RedisNode> masters = cluster_masters();
    if (masters.empty()) {
        std::optional<RedisConnection> none;
        list_node(none, std::nullopt, seen, listed);
    }
    for (const RedisNode& master : masters) {
        std::optional<RedisConnection> c;
        list_node(c, master, seen, listed);
    }
    std::sort(listed.begin(), listed.end(),
              [](const ListedKey& a, const ListedKey& b) { return a.key < b.key; });
    return listed;
}

std::vector<RedisNode> RedisBackend::cluster_masters() {
    const StepDeadline step = begin_step();
    auto ask = [&] { return connection(interrupt_, step).call({"CLUSTER", "NODES"}, step); };
    RespValue reply;
    try {
        try {
            reply = ask();
        } catch (const BackendUnavailable&) {
            // Once more on a new connection, as every step does.
            connection_.reset();
            if (step.at.passed()) throw;
            reply = ask();
        }
    } catch (const ConfigError&) {
        return {};  // the ACL forbids CLUSTER: a managed single server, as far as we can tell
    }
    if (reply.is_error()) return {};  // cluster support disabled: one node
    return parse_cluster_masters(reply.text, connected_to_.host);
}

void RedisBackend::list_node(std::optional<RedisConnection>& c,
                             const std::optional<RedisNode>& node, std::set<std::string>& seen,
                             std::vector<ListedKey>& listed) {
    auto open = [&](const StepDeadline& step) -> RedisConnection& {
        if (!node) return connection(interrupt_, step);
        if (!c) {
            ConnectionSettings there = settings_;
            there.url = settings_.url.at(*node);
            c.emplace(open_connection(there, interrupt_, step));
        }
        return *c;
    };
    auto drop = [&] { node ? c.reset() : connection_.reset(); };
    std::string cursor = "0";
    do {
        const StepDeadline step = begin_step();
        try {
            cursor = list_batch(open(step), cursor, seen, listed, step);
        } catch (const BackendUnavailable&) {
            // SCAN from the same cursor may be repeated: once, on a new connection.
            drop();
            if (step.at.passed()) throw;
            cursor = list_batch(open(step), cursor, seen, listed, step);
        }
    } while (cursor != "0");
}

std::string RedisBackend::list_batch(RedisConnection& c, const std::string& cursor,
                                     std::set<std::string>& seen, std::vector<ListedKey>& listed,
                                     const StepDeadline& step) {
    const std::string pattern = scan_pattern(prefix_);
    ScanReply scan =
        parse_scan_reply(c.call({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, step));
    // SCAN may name a key twice, and a KEY has up to three listable names (:lock, :out and a
    // semaphore's :holders):
    // each KEY is read once, by the names they share.
    std::set<std::string> batch;
    std::vector<ListableName> names;
    std::vector<std::vector<std::string>> keys_per_call;
    for (const std::string& scanned : scan.keys) {
        std::optional<ListableName> name = listable_name(scanned, prefix_);
        if (!name || seen.contains(name->base) || !batch.insert(name->base).second) continue;
        keys_per_call.push_back({name->base + "lock", name->base + "out", name->base + "holders",
                                 name->base + "holder"});
        names.push_back(std::move(*name));
    }
    if (names.empty()) return scan.cursor;
    std::vector<RespValue> replies = status_script_.call_each(c, keys_per_call, step);
    // Only now that every read succeeded: a retried batch must read these keys again.
    for (std::size_t i = 0; i < names.size(); ++i) {
        seen.insert(names[i].base);
        NamedStatus named =
            parse_named_status_reply(replies[i], seal_, {keys_per_call[i][1], {}, unix_now_ms()});
        std::optional<ListedKey> key =
            listed_key(names[i], std::move(named.status), named.recorded_key);
        if (key) listed.push_back(std::move(*key));
    }
    return scan.cursor;
}

std::unique_ptr<LivePublisher> RedisBackend::publish_live(std::uint64_t fence, Millis lease) {
    // To the node that granted the lock (a cluster's slot owner, the Sentinels' master),
    // before the command starts, so that no piece of its output waits for a connection.
    std::optional<RedisConnection> connection;
    try {
        ConnectionSettings to_node = settings_;
        if (settings_.url.transport != RedisUrl::Transport::unix_socket &&
            !connected_to_.host.empty()) {
            to_node.url = settings_.url.at(connected_to_);
        }
        connection.emplace(open_connection(to_node, nullptr, begin_step()));
    } catch (const Error&) {
        // The run goes on without followers: its waiters wait for its end, as before.
    }
    return std::make_unique<RedisLivePublisher>(
        std::move(connection), publish_live_script_,
        RedisLivePublisher::Target{keys_.live, keys_.lock, fence, live_stream_ttl(lease),
                                   settings_.io_timeout});
}

std::unique_ptr<LiveFeed> RedisBackend::follow_live(const LockHeld& held) {
    if (!held.live) return nullptr;
    const std::string group = "follower:" + random_token();
    // A stream it makes (nothing published yet) lasts as a dead holder's would at least.
    const std::string ttl = std::to_string(live_stream_ttl(Millis(0)).count());
    RedisLiveFeed::Calls calls;
    const std::string first = live_entry_id(held.fence, 0);
    calls.join = [this, group, first, ttl] {
        RespValue reply = call_with_retry(follow_live_script_, {keys_.live}, {group, first, ttl},
                                          interrupt_, begin_step());
        return !reply.is_error();
    };
    // One command, to the key's node; a connection that failed is not used again.
    auto call = [this](const std::vector<std::string_view>& args, InterruptSource* interrupt) {
        const StepDeadline step = begin_step();
        try {
            return routed([&](RedisConnection& c) { return c.call(args, step); }, interrupt, step);
        } catch (const BackendUnavailable&) {
            connection_.reset();
            throw;
        }
    };
    calls.read = [this, group, call](Millis block) {
        const std::string block_ms = std::to_string(std::max(block, Millis(1)).count());
        std::vector<std::string_view> args{"XREADGROUP", "GROUP", group, "follower",
                                           "NOACK",      "COUNT", "8"};
        if (block > Millis(0)) args.insert(args.end(), {"BLOCK", block_ms});
        args.insert(args.end(), {"STREAMS", keys_.live, ">"});
        return call(args, interrupt_);
    };
    calls.leave = [this, group, call](bool run_ended) noexcept {
        try {
            const std::vector<std::string_view> destroy{"XGROUP", "DESTROY", keys_.live, group};
            if (run_ended && connection_) {
                // The group must still go (the key's next run would wait for it), but nobody
                // waits for its answer: a round trip less in each follower's exit, which in a
                // stampede all come at once. The connection goes, so that no later call
                // reads that answer as its own.
                connection_->send(destroy, Deadline::after(settings_.io_timeout));
                connection_.reset();
                return;
            }
            call(destroy, nullptr);
        } catch (...) {
            // The holder waits for it k_live_patience at most, or it goes with the stream.
        }
    };
    // One HGET: the status script would also send the stored result, if any, every second.
    calls.run_goes_on = [this, call, fence = std::to_string(held.fence)] {
        RespValue holder = call({"HGET", keys_.lock, "fence"}, interrupt_);
        return holder.type == RespValue::Type::string && holder.text == fence;
    };
    // Each read blocks for less than the I/O timeout that bounds its reply, and for a quarter
    // of a second at most: a signal is noticed between two reads.
    const Millis longest_block = std::clamp(settings_.io_timeout / 2, Millis(10), Millis(250));
    return std::make_unique<RedisLiveFeed>(std::move(calls), held.fence, longest_block);
}

}  // namespace lockrun
