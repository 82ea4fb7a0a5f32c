#pragma once
// One connection to a Redis server on a socket that lockrun owns (Debian's hiredis 0.14
// has neither TLS nor usable timeouts): hiredis parses replies, we format commands
// (resp_command.hpp) and do the I/O, so every operation has a deadline and a pending
// signal can cut a wait short. A rediss:// connection runs the same I/O loops through a
// TlsSession instead of recv/send; the loops do all the waiting for both.

#include <hiredis/hiredis.h>
#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/redis/redis_url.hpp"
#include "backend/redis/resp_value.hpp"
#include "backend/redis/step_deadline.hpp"
#include "backend/redis/tls_session.hpp"
#include "core/errors.hpp"
#include "core/interrupt_source.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

struct ConnectionSettings {
    RedisUrl url;  // with the password already resolved (URL, file or environment)
    Millis connect_timeout{2000};
    Millis io_timeout{2000};
    TlsSettings tls;
    SharedTlsContext tls_context;     // made on the first rediss:// connection, then shared
    int min_replicas = 0;             // --min-replicas (SPEC §8): WAIT after acquiring and storing
    std::string sentinel_password{};  // redis+sentinel://: AUTH to the Sentinels (not the master)
    // Where the password for this server is set, for the message of a refused login.
    std::string password_from{"in the URL, --redis-password-file or LOCKRUN_REDIS_PASSWORD"};
};

// The server answered a command with an error reply and closed the connection (a request
// over its proto-max-bulk-len does that): it did answer, so repeating the request is no use.
class ServerRefused : public BackendUnavailable {
public:
    ServerRefused(const std::string& message, std::string reply)
        : BackendUnavailable(message), reply_(std::move(reply)) {}
    const std::string& reply() const { return reply_; }

private:
    std::string reply_;
};

// A Redis Cluster node kept answering TRYAGAIN or CLUSTERDOWN (a slot being migrated, a
// failover) for as long as the request could wait.
class ClusterBusy : public BackendUnavailable {
public:
    using BackendUnavailable::BackendUnavailable;
};

// The cluster's nodes sent a request from one to another without serving it: they disagree
// on who owns the slot, and the same request again would go round again.
class ClusterRedirectLoop : public BackendUnavailable {
public:
    using BackendUnavailable::BackendUnavailable;
};

class RedisConnection {
public:
    // Connects (and for rediss:// completes the TLS handshake), authenticates and selects
    // the db, all within connect_timeout. Throws BackendUnavailable when the server cannot
    // be reached or the connection drops, ConfigError when it rejects the credentials or
    // the db, when a TLS file cannot be used, or when the server's certificate fails
    // verification, and Interrupted when `interrupt` fires first (may be null).
    // With a step: never past the step's deadline either (the name lookup included), and a
    // timeout that the step's deadline made says so. Without: within connect_timeout.
    static RedisConnection open(const ConnectionSettings& settings, InterruptSource* interrupt,
                                const StepDeadline& step);
    static RedisConnection open(const ConnectionSettings& settings, InterruptSource* interrupt);

    RedisConnection(RedisConnection&&) noexcept;
    RedisConnection& operator=(RedisConnection&&) noexcept;
    ~RedisConnection();

    // Sends one command and returns its reply (an error reply is returned, not thrown,
    // but for NOAUTH and the ACL's refusals). Throws BackendUnavailable when the deadline
    // passes or the connection drops (ServerRefused when the server answered with an error
    // and hung up), and ConfigError when the server refuses the command for want of a
    // password (NOAUTH) or a permission (NOPERM, or a script's command the ACL forbids): the
    // message names the user, the command and the grant that lockrun needs. The wait for the reply
    // is capped by io_timeout and by the step's deadline, whichever comes first; the message of a
    // timeout names the one that ran out.
    RespValue call(const std::vector<std::string_view>& args, const StepDeadline& step);
    RespValue call(const std::vector<std::string_view>& args, Deadline deadline);
    // Sends every command at once and returns their replies in order, as call() does for
    // one: one round trip, within one io_timeout (and the step).
    std::vector<RespValue> call_pipelined(
        const std::vector<std::vector<std::string_view>>& commands, const StepDeadline& step);

    // Queues and flushes one command without reading its reply.
    void send(const std::vector<std::string_view>& args, Deadline deadline);
    // Waits for the next reply (or pushed message) until the deadline; nullopt on timeout.
    std::optional<RespValue> read_reply(Deadline deadline);
    // Returns a reply if one is already complete or can be read without blocking. It reads
    // until the socket has nothing more, so when it returns nullopt, poll(2) on fd() tells
    // when there is more: no data waits unseen in the TLS layer.
    std::optional<RespValue> try_read_reply();

    // Sending without waiting, for a caller that must never wait on the server (the live
    // output's publisher): queue() adds a command, send_queued() writes what the socket
    // takes now (true: all of it), send_queued_by() all of it by a deadline. Throws as send().
    void queue(const std::vector<std::string_view>& args);
    bool send_queued();
    void send_queued_by(Deadline deadline);
    std::size_t queued_bytes() const { return outbox_.size() - outbox_sent_; }
    // The poll(2) events the queue waits for: 0 when it is empty.
    short queue_waits_for() const { return queued_bytes() == 0 ? 0 : outbox_waits_for_; }

    // Whether this server takes lockrun's scripts without their "#!lua" first line (it did
    // not know it: Redis 6.x, KeyDB); decided on the connection's first script (LuaScript).
    bool scripts_without_header() const { return scripts_without_header_; }
    void send_scripts_without_header() { scripts_without_header_ = true; }

    // Redis Cluster's ASK redirect: every later command goes with an ASKING before it (the
    // node that imports a slot serves only those), for a connection opened to follow one.
    void ask_before_each_command() { asking_ = true; }

    int fd() const { return socket_.get(); }
    // The server, for messages: the URL without its password.
    const std::string& where() const { return where_; }
    void set_interrupt(InterruptSource* interrupt) { interrupt_ = interrupt; }
    // The --prefix, for the grant that the message of an ACL refusal suggests (unset: the
    // message says PREFIX).
    void set_key_prefix(std::string prefix) { key_prefix_ = std::move(prefix); }

private:
    RedisConnection(UniqueFd socket, std::unique_ptr<TlsSession> tls, std::string where,
                    Millis io_timeout, InterruptSource* interrupt);
    // open()'s steps, all within `bound`. connect: the socket, and for rediss:// the TLS
    // session on it. handshake: that session's, and when a silent server let it time out,
    // whether the server speaks plain RESP instead (78, not 69). authenticate: AUTH when the
    // URL has a password; its message names the user, never the password.
    static RedisConnection connect(const ConnectionSettings& settings, const ConnectBound& bound,
                                   InterruptSource* interrupt);
    void handshake(const ConnectionSettings& settings, const ConnectBound& bound,
                   const StepDeadline& step);
    void authenticate(const RedisUrl& url, const StepDeadline& step);
    void select_database(const RedisUrl& url, const StepDeadline& step);
    // Runs the TLS handshake until done; `within` says the bound, for the message.
    void handshake_until(Deadline deadline, const std::string& within);
    // Whether url's server answers a PING in plain RESP by `deadline` (so it is no TLS
    // server). For the message after a silent TLS handshake only.
    static bool answers_plain_resp(const RedisUrl& url, Deadline deadline,
                                   InterruptSource* interrupt);
    // call() without its reading of error replies, for AUTH.
    RespValue exchange(const std::vector<std::string_view>& args, const StepDeadline& step);
    // NOAUTH and the ACL's refusals become ConfigError (see call()); `command` is the one sent.
    void throw_if_refused(const RespValue& reply, std::string_view command) const;
    // The message of a reply that did not come by `step` or io_timeout.
    [[noreturn]] void fail_no_reply(const StepDeadline& step, bool step_binds) const;
    // Appends `args` to `out` as RESP sends a command, with an ASKING before it when
    // ask_before_each_command() was called.
    void append_command(std::string& out, const std::vector<std::string_view>& args) const;
    void write_all(std::string_view bytes, Deadline deadline);
    // Feeds the reader what can be read now. Returns 0 when it fed something, else the
    // poll(2) events to wait for before trying again.
    short fill_reader();
    std::optional<RespValue> take_parsed_reply();
    // One recv/send, or SSL_read/SSL_write: the only places that know the transport.
    IoResult read_some(char* buffer, std::size_t size);
    IoResult write_some(std::string_view bytes);
    // Polls for `events` until the deadline or a signal; false on timeout.
    bool wait_for(short events, Deadline deadline);
    [[noreturn]] void fail(const std::string& what) const;
    // For a read or write that ended the connection (closed or failed).
    [[noreturn]] void fail(const IoResult& result) const;
    // For a write: with what the server said before it hung up, when it said something.
    [[noreturn]] void fail_after_write(const IoResult& failed);

    struct ReaderDeleter {
        void operator()(redisReader* r) const { redisReaderFree(r); }
    };
    UniqueFd socket_;
    std::unique_ptr<TlsSession> tls_;  // rediss://; destroyed before the socket it runs on
    std::unique_ptr<redisReader, ReaderDeleter> reader_;
    std::string where_;
    std::string acl_user_ = "default";  // for the message of an ACL refusal
    std::string password_from_;         // ConnectionSettings::password_from, for a refused login
    std::string key_prefix_;
    Millis io_timeout_;
    InterruptSource* interrupt_ = nullptr;
    bool plain_tcp_ = false;          // redis://: the server might want TLS
    bool heard_from_server_ = false;  // any byte of a reply yet
    bool asking_ = false;
    bool asking_ack_next_ = true;  // asking_: the next reply is an ASKING's +OK
    bool scripts_without_header_ = false;
    std::string outbox_;  // queue()d, sent up to outbox_sent_
    std::size_t outbox_sent_ = 0;
    short outbox_waits_for_ = POLLOUT;
};

}  // namespace lockrun
