#pragma once
// The Backend of SPEC §5 on a Redis server: one connection for the scripts, a second one
// (opened only when a caller has to wait) subscribed to the release channel.
//
// On a Redis Cluster (SPEC §8) every name of KEY is in one slot, so both go to the node
// that owns it: the URL's seeds are tried in turn, MOVED moves the connection to the node
// it names for the rest of the run, ASK sends that one request there after ASKING, and
// TRYAGAIN or CLUSTERDOWN is retried with a backoff while the step lasts.
//
// Releases are published twice, with SPUBLISH (where the server has it) and PUBLISH, so that
// a waiter is woken whichever it subscribed with: a lockrun 0.1 waiter, or one on an older
// node of a cluster being upgraded. A waiter decides once per run: on a cluster it
// subscribes with SSUBSCRIBE on the node that owns the slot (a sharded message stays in
// that shard, and the node says when the slot leaves it), and with SUBSCRIBE as well;
// elsewhere, or where SSUBSCRIBE is refused, with SUBSCRIBE alone.
//
// Every public call but the renewal's is one step (SPEC §3): it starts one deadline of
// --connect-timeout + --io-timeout and does everything within it, connecting (name lookup
// included), a retry on a new connection and a re-send after NOSCRIPT alike. The renewal
// is bounded by the deadline its caller gives it. list_keys() is a step per SCAN batch.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backend/redis/cluster_redirect.hpp"
#include "backend/redis/lua_script.hpp"
#include "backend/redis/redis_connection.hpp"
#include "backend/redis/redis_keys.hpp"
#include "core/backend.hpp"
#include "core/record_seal.hpp"

namespace lockrun {

class RedisBackend : public Backend {
public:
    // Connects lazily, on the first call. `interrupt` (may be null) cuts short the waits
    // that happen before the command runs.
    // `seal`: --cache-key-file's signing of the records stored and read.
    RedisBackend(ConnectionSettings settings, std::string_view prefix, std::string_view key,
                 InterruptSource* interrupt, RecordSeal seal = {});

    Acquisition check_and_acquire(const AcquireRequest& request) override;
    void prepare_to_wait() override;
    std::string how_waiters_are_woken() const override;
    void wait_for_release(Deadline deadline) override;
    void send_renewal(const std::string& token, Millis lease, Deadline deadline) override;
    int renewal_fd() const override;
    std::optional<bool> take_renewal_reply() override;
    bool finish(const FinishRequest& request) override;
    void abandon(const std::string& token) noexcept override;
    bool renew_now(const std::string& token, Millis lease) override;
    bool lease_proves_exclusion() const override;
    KeyStatus read_status() override;
    bool drop_stored_result() override;
    bool force_release() override;
    bool claim_refresh(Millis period) override;
    std::vector<ListedKey> list_keys() override;
    // SPEC §1: the run's output in the stream PREFIX{KEY}:live (redis_live.hpp).
    bool follows_live() const override { return !seal_.signs(); }
    std::unique_ptr<LivePublisher> publish_live(std::uint64_t fence, Millis lease) override;
    std::unique_ptr<LiveFeed> follow_live(const LockHeld& held) override;

private:
    StepDeadline begin_step() const;
    RedisConnection& connection(InterruptSource* interrupt, const StepDeadline& step);
    // A connection to the owner of KEY's slot when a MOVED named it, else to the first seed
    // that answers; `node` becomes the one it is to.
    RedisConnection open_to_owner(InterruptSource* interrupt, const StepDeadline& step,
                                  RedisNode& node);
    // redis+sentinel://: asks the Sentinels in turn for the master, and checks with ROLE
    // that the node they name is one; `node` becomes it. ConfigError when every Sentinel
    // that answers knows no master of that name.
    RedisConnection open_master_via_sentinels(InterruptSource* interrupt, const StepDeadline& step,
                                              RedisNode& node);
    // The settings of a connection to one Sentinel: its own password, no user, db 0.
    ConnectionSettings sentinel_settings(const RedisNode& sentinel) const;
    // redis+sentinel://: whether the Sentinels still name the node this run talks to (one
    // quick round by `deadline`; Sentinels that do not answer prove nothing: true).
    bool master_unchanged(Deadline deadline) const;
    // One Sentinel's answer to get-master-addr-by-name; a refused login or command names the
    // Sentinels' password setting.
    RespValue ask_sentinel(const ConnectionSettings& to_sentinel, InterruptSource* interrupt,
                           const StepDeadline& step) const;
    // One round of it: each Sentinel in turn; what they said goes to `why` and the counts.
    std::optional<RedisConnection> ask_sentinels_once(InterruptSource* interrupt,
                                                      const StepDeadline& step, RedisNode& node,
                                                      std::string& why, int& answered,
                                                      int& unknown);
    // `send` on connection(), and again where the cluster's redirects say (above), within
    // the step; the final reply. TRYAGAIN and CLUSTERDOWN are retried until
    // `stop_retrying` (at most the step), then ClusterBusy.
    RespValue routed(const std::function<RespValue(RedisConnection&)>& send,
                     InterruptSource* interrupt, const StepDeadline& step,
                     Deadline stop_retrying = Deadline::never());
    // The pending renewal, sent again where a redirect says, its reply read later as any
    // renewal's.
    void resend_renewal_to(const ClusterRedirect& redirect);
    // A connection to `node` that sends ASKING before each command (an ASK redirect).
    RedisConnection open_asking(const RedisNode& node, InterruptSource* interrupt,
                                const StepDeadline& step) const;
    std::optional<Acquisition> try_check_and_acquire(const AcquireRequest& request, bool read_cache,
                                                     std::optional<std::string>& unreadable,
                                                     const StepDeadline& step);
    // Sends, or re-sends once on a new connection if the old one broke or did not answer
    // in time, while the step lasts: every script here is safe to repeat (SPEC §5: a retry
    // with our own token is idempotent).
    // `sent` (may be null) becomes true once the connection is up and the request is about
    // to go out: from then on the script may have run even if no reply comes.
    RespValue call_with_retry(const LuaScript& script, const std::vector<std::string_view>& keys,
                              const std::vector<std::string_view>& args, InterruptSource* interrupt,
                              const StepDeadline& step, bool* sent = nullptr,
                              Deadline stop_retrying = Deadline::never());
    // --min-replicas: WAIT on the connection that wrote `what` until that many replicas have
    // it, within the step; throws NotReplicated naming the count, and `so` (what that means),
    // when fewer do in time.
    void require_replicas(const std::string& what, const std::string& so, const StepDeadline& step);
    // RedisConnection::open, with the prefix that the message of an ACL refusal names.
    RedisConnection open_connection(const ConnectionSettings& settings, InterruptSource* interrupt,
                                    const StepDeadline& step) const;
    // A WRONGTYPE reply (one of KEY's names written by another client with another type), or
    // a fence that INCR refuses (not an integer, or at the largest), becomes ConfigError
    // naming that key and how to remove it; other replies pass.
    void throw_if_foreign_key(const RespValue& reply, const StepDeadline& step);
    // One SCAN call from `cursor` and the status of each listable key it names that is not
    // in `seen` yet (added to `listed`); returns the next cursor. Within `step`.
    std::string list_batch(RedisConnection& c, const std::string& cursor,
                           std::set<std::string>& seen, std::vector<ListedKey>& listed,
                           const StepDeadline& step);
    // Every batch of one node's SCAN, on `c` (opened to `node`, or by connection() when
    // there is none), each batch a step.
    void list_node(std::optional<RedisConnection>& c, const std::optional<RedisNode>& node,
                   std::set<std::string>& seen, std::vector<ListedKey>& listed);
    // Once per run, on the waiter's first subscription `c`: sharded pub/sub on a cluster,
    // global elsewhere (SPEC §8).
    void decide_wake_ups(RedisConnection& c, const StepDeadline& step);
    // The masters of the cluster the server belongs to; none when it is no cluster node (or
    // may not say).
    std::vector<RedisNode> cluster_masters();

    ConnectionSettings settings_;
    std::string prefix_;
    std::string key_;
    RedisKeyNames keys_;
    InterruptSource* interrupt_;
    LuaScript acquire_script_;
    LuaScript renew_script_;
    LuaScript finish_script_;
    LuaScript release_script_;
    LuaScript status_script_;
    LuaScript force_release_script_;
    LuaScript acquire_slot_script_;
    LuaScript renew_slot_script_;
    LuaScript release_slot_script_;
    LuaScript publish_live_script_;
    LuaScript follow_live_script_;
    // -n N (SPEC §9): this caller takes a slot of a semaphore, whose scripts and keys the
    // lease's renewals and the release use.
    bool semaphore_ = false;
    const LuaScript& lease_script() const {
        return semaphore_ ? renew_slot_script_ : renew_script_;
    }
    const LuaScript& free_script() const {
        return semaphore_ ? release_slot_script_ : release_script_;
    }
    std::vector<std::string_view> lease_keys() const {
        if (semaphore_) return {keys_.holders, keys_.holder};
        return {keys_.lock};
    }
    RecordSeal seal_;
    std::optional<RedisConnection> connection_;
    RedisNode connected_to_;          // the node of connection_, or that it last was
    std::optional<RedisNode> owner_;  // the slot's owner, as the last MOVED said
    bool saw_cluster_reply_ = false;  // a redirect, TRYAGAIN or CLUSTERDOWN: a cluster
    bool one_round_only_ = false;     // a renewal's reconnect asks the Sentinels once
    std::optional<RedisConnection> subscriber_;
    // The connection of an ASK that served the last request (a slot on the move), kept for
    // the WAIT of --min-replicas.
    std::optional<RedisConnection> served_by_ask_;
    enum class WakeUps { undecided, sharded, global };
    WakeUps wake_ups_ = WakeUps::undecided;
    std::string wake_ups_why_;   // for -v
    std::string subscribed_at_;  // the server of the last subscription, for -v
    // The renewal whose reply has not been read yet (its args, for a NOSCRIPT re-send).
    struct PendingRenewal {
        std::string token;
        std::string lease_ms;
        Deadline deadline;
        bool sent_by_source = false;  // after a NOSCRIPT: NOSCRIPT again is ConfigError
    };
    std::optional<PendingRenewal> pending_renewal_;
    // An acquisition was sent and not answered, or answered with the lock: we may hold it.
    bool may_hold_lock_ = false;
    // A look found the key held and may have left this caller's writer's mark (--shared
    // readers in force): the next acquisition deletes it, and only then looks for it.
    bool may_have_writer_mark_ = false;
    // The step whose script call failed last (cleared by the next call): abandon() after
    // that failure belongs to it, and gets only what is left of it.
    std::optional<StepDeadline> failed_step_;
};

}  // namespace lockrun
