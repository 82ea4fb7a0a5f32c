#include "backend/redis/redis_connection.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "backend/redis/name_lookup.hpp"
#include "backend/redis/resp_command.hpp"
#include "backend/wait_for_fd.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string describe_url(const RedisUrl& url) {
    return url.redacted();
}

std::string reach_hint() {
    return " (is redis-server running there? check --redis)";
}

RespValue to_value(const redisReply* reply) {
    switch (reply->type) {
        case REDIS_REPLY_INTEGER:
            return RespValue::of_integer(reply->integer);
        case REDIS_REPLY_STRING:
            return RespValue::of_string(std::string(reply->str, reply->len));
        case REDIS_REPLY_STATUS:
            return RespValue::of_status(std::string(reply->str, reply->len));
        case REDIS_REPLY_ERROR:
            return RespValue::of_error(std::string(reply->str, reply->len));
        case REDIS_REPLY_ARRAY: {
            std::vector<RespValue> elements;
            elements.reserve(reply->elements);
            for (size_t i = 0; i < reply->elements; ++i)
                elements.push_back(to_value(reply->element[i]));
            return RespValue::of_array(std::move(elements));
        }
        default:
            return RespValue::nil();
    }
}

// Waits for a non-blocking connect to finish; returns 0 or the errno it failed with.
int finish_connect(int fd, Deadline deadline, InterruptSource* interrupt) {
    FdWait waited = wait_for_fd(fd, POLLOUT, deadline, interrupt);
    if (waited == FdWait::failed) return errno;
    if (waited == FdWait::timed_out) return ETIMEDOUT;
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    return error;
}

[[noreturn]] void throw_connect_timeout(const RedisUrl& url, const ConnectBound& bound) {
    throw BackendUnavailable("cannot reach " + describe_url(url) + ": timed out after " +
                             bound.within);
}

UniqueFd connect_unix(const RedisUrl& url, const ConnectBound& bound, InterruptSource* interrupt) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (url.socket_path.size() >= sizeof address.sun_path)
        throw ConfigError("unix socket path is too long: " + url.socket_path);
    std::memcpy(address.sun_path, url.socket_path.c_str(), url.socket_path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw InternalError(std::string("socket: ") + std::strerror(errno));
    int error = 0;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        error = errno == EINPROGRESS || errno == EAGAIN
                    ? finish_connect(fd.get(), bound.at, interrupt)
                    : errno;
    }
    if (error == ETIMEDOUT) throw_connect_timeout(url, bound);
    if (error != 0) {
        throw BackendUnavailable("cannot reach " + describe_url(url) + ": " + std::strerror(error) +
                                 reach_hint());
    }
    return fd;
}

std::vector<ResolvedAddress> resolve(const RedisUrl& url, const ConnectBound& bound,
                                     InterruptSource* interrupt) {
    NameLookup lookup = look_up_name(url.host, url.port, bound.at, interrupt);
    switch (lookup.outcome) {
        case NameLookup::Outcome::resolved:
            return std::move(lookup.addresses);
        case NameLookup::Outcome::timed_out:
            throw BackendUnavailable("cannot reach " + describe_url(url) + ": name lookup of '" +
                                     url.host + "' did not finish within " + bound.within);
        case NameLookup::Outcome::failed:
            break;
    }
    throw BackendUnavailable("cannot reach " + describe_url(url) + ": cannot resolve host '" +
                             url.host + "': " + lookup.error + " (check --redis)");
}

UniqueFd connect_tcp(const RedisUrl& url, const ConnectBound& bound, InterruptSource* interrupt) {
    std::string last_reason = "no address";
    for (const ResolvedAddress& a : resolve(url, bound, interrupt)) {
        UniqueFd fd(::socket(a.family, a.socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a.protocol));
        if (!fd.valid()) continue;
        int error = 0;
        if (::connect(fd.get(), a.sockaddr_ptr(), a.length) != 0) {
            error = errno == EINPROGRESS ? finish_connect(fd.get(), bound.at, interrupt) : errno;
        }
        if (error == 0) {
            int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (error == ETIMEDOUT || bound.at.passed()) throw_connect_timeout(url, bound);
        last_reason = std::strerror(error);
    }
    throw BackendUnavailable("cannot reach " + describe_url(url) + ": " + last_reason +
                             reach_hint());
}

// A plain Redis port never answers a TLS ClientHello: it reads it as an inline command and
// waits for a line end that does not come before the hello's first NUL byte. So a handshake
// that timed out without a byte back is checked once more, in plain RESP, within at most
// this much time of its own (a failure path only: it makes a silent server cost that much
// more), to tell "not speaking TLS" (78) from "not answering" (69).
constexpr Millis k_plain_probe_timeout{1000};

}  // namespace

RedisConnection RedisConnection::open(const ConnectionSettings& settings,
                                      InterruptSource* interrupt) {
    return open(settings, interrupt, StepDeadline::bare(Deadline::never()));
}

RedisConnection RedisConnection::open(const ConnectionSettings& settings,
                                      InterruptSource* interrupt, const StepDeadline& step) {
    // Connecting, logging in and selecting the db get --connect-timeout, and never more than
    // what is left of the step.
    const ConnectBound bound = ConnectBound::of(settings.connect_timeout, step);
    const StepDeadline connect_step = StepDeadline::bare(bound.at);
    RedisConnection c = connect(settings, bound, interrupt);  // socket; rediss://: a TLS session
    if (c.tls_) c.handshake(settings, bound, step);           // 78 when the port is plain RESP
    c.password_from_ = settings.password_from;
    c.authenticate(settings.url, connect_step);  // names the user, not the password
    c.select_database(settings.url, connect_step);
    return c;
}

RedisConnection RedisConnection::connect(const ConnectionSettings& settings,
                                         const ConnectBound& bound, InterruptSource* interrupt) {
    const RedisUrl& url = settings.url;
    // Before connecting: a TLS file that cannot be used is wrong whether the server is up or not.
    std::unique_ptr<TlsSession> tls;
    if (url.transport == RedisUrl::Transport::tls) {
        tls = start_tls_session(settings.tls_context, settings.tls, url.host, describe_url(url));
    }
    UniqueFd socket = url.transport == RedisUrl::Transport::unix_socket
                          ? connect_unix(url, bound, interrupt)
                          : connect_tcp(url, bound, interrupt);
    if (tls) tls->attach(socket.get());
    RedisConnection connection(std::move(socket), std::move(tls), describe_url(url),
                               settings.io_timeout, interrupt);
    connection.plain_tcp_ = url.transport == RedisUrl::Transport::tcp;
    return connection;
}

void RedisConnection::handshake(const ConnectionSettings& settings, const ConnectBound& bound,
                                const StepDeadline& step) {
    try {
        handshake_until(bound.at, bound.within);
    } catch (const BackendUnavailable&) {
        // The probe is a failure path's diagnosis, and it too stays within the step.
        Deadline probe = earliest(
            step.at, Deadline::after(std::min(settings.connect_timeout, k_plain_probe_timeout)));
        if (bound.at.passed() && !tls_->heard_from_server() && !probe.passed() &&
            answers_plain_resp(settings.url, probe, interrupt_)) {
            throw ConfigError(where_ + " is not speaking TLS (check the port, or use redis://)");
        }
        throw;
    }
}

void RedisConnection::authenticate(const RedisUrl& url, const StepDeadline& step) {
    if (!url.user.empty()) acl_user_ = url.user;
    if (url.password.empty()) return;
    std::vector<std::string_view> auth = {"AUTH"};
    if (!url.user.empty()) auth.push_back(url.user);
    auth.push_back(url.password);
    // Redis's replies to AUTH never quote the password, so the reply can be shown.
    RespValue reply = exchange(auth, step);
    if (reply.is_error()) {
        throw ConfigError(where_ + " rejected the login" +
                          (url.user.empty() ? "" : " of user '" + url.user + "'") + ": " +
                          reply.text + " (check the user and the password: " + password_from_ +
                          ")");
    }
}

void RedisConnection::select_database(const RedisUrl& url, const StepDeadline& step) {
    if (url.db == 0) return;
    std::string db = std::to_string(url.db);
    RespValue reply = call({"SELECT", db}, step);
    if (reply.is_error()) throw ConfigError(where_ + " refused db " + db + ": " + reply.text);
}

RedisConnection::RedisConnection(UniqueFd socket, std::unique_ptr<TlsSession> tls,
                                 std::string where, Millis io_timeout, InterruptSource* interrupt)
    : socket_(std::move(socket)),
      tls_(std::move(tls)),
      reader_(redisReaderCreate()),
      where_(std::move(where)),
      io_timeout_(io_timeout),
      interrupt_(interrupt) {
    if (!reader_) throw InternalError("out of memory creating a RESP reader");
}

RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&&) noexcept = default;
RedisConnection::~RedisConnection() = default;

bool RedisConnection::answers_plain_resp(const RedisUrl& url, Deadline deadline,
                                         InterruptSource* interrupt) {
    try {
        ConnectBound bound{deadline, "the probe's time"};
        RedisConnection probe(connect_tcp(url, bound, interrupt), nullptr, describe_url(url),
                              deadline.left(), interrupt);
        probe.exchange({"PING"},
                       StepDeadline::bare(deadline));  // +PONG, or -NOAUTH: either is plain Redis
        return true;
    } catch (const BackendUnavailable&) {
        return false;
    }
}

RespValue RedisConnection::call(const std::vector<std::string_view>& args, Deadline deadline) {
    return call(args, StepDeadline::bare(deadline));
}

RespValue RedisConnection::call(const std::vector<std::string_view>& args,
                                const StepDeadline& step) {
    RespValue reply = exchange(args, step);
    throw_if_refused(reply, args.empty() ? std::string_view() : args[0]);
    return reply;
}

std::vector<RespValue> RedisConnection::call_pipelined(
    const std::vector<std::vector<std::string_view>>& commands, const StepDeadline& step) {
    Deadline own = Deadline::after(io_timeout_);
    const bool step_binds = step.described() && step.at.at() <= own.at();
    Deadline bounded = earliest(own, step.at);
    std::string bytes;
    for (const auto& args : commands) append_command(bytes, args);
    write_all(bytes, bounded);
    std::vector<RespValue> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        std::optional<RespValue> reply = read_reply(bounded);
        if (!reply) fail_no_reply(step, step_binds);
        throw_if_refused(*reply, commands[i].empty() ? std::string_view() : commands[i][0]);
        replies.push_back(std::move(*reply));
    }
    return replies;
}

namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// What an ACL refusal forbids, from the server's words: "NOPERM this user has no permissions
// to run the 'evalsha' command" names it; a refusal of keys or channels says which; a
// command refused inside a script ("ERR The user executing the script can't run this
// command") names none, so it is one of the scripts' commands.
std::string forbidden_by(std::string_view reply, std::string_view command) {
    const std::size_t open =
        reply.starts_with("NOPERM") ? reply.find('\'') : std::string_view::npos;
    if (open != std::string_view::npos) {
        const std::size_t close = reply.find('\'', open + 1);
        if (close != std::string_view::npos) return upper(reply.substr(open + 1, close - open - 1));
    }
    if (reply.find("channel") != std::string_view::npos) return "its channels";
    if (reply.find("key") != std::string_view::npos) return "its keys";
    if (reply.find("script") != std::string_view::npos) return "a command inside lockrun's scripts";
    return upper(command);
}

bool is_acl_refusal(std::string_view reply) {
    return reply.starts_with("NOPERM") ||
           reply.starts_with("ERR The user executing the script can't run this command") ||
           (reply.starts_with("ERR ") && reply.find("NOPERM") != std::string_view::npos);
}

}  // namespace

void RedisConnection::throw_if_refused(const RespValue& reply, std::string_view command) const {
    // Redis 7 answers a long command from a client that has not logged in with a protocol
    // error (and hangs up) rather than NOAUTH: both mean a password is missing, and only
    // that is said (the protocol error's "unauthenticated multibulk length" reads as a bug).
    // A password that was given and refused is WRONGPASS, at the login.
    if (reply.is_error() && (reply.text.starts_with("NOAUTH") ||
                             reply.text.starts_with("ERR Protocol error: unauthenticated"))) {
        throw ConfigError(where_ + " requires a password, and none was given (give it " +
                          password_from_ + ")");
    }
    if (reply.is_error() && is_acl_refusal(reply.text)) {
        const std::string prefix = key_prefix_.empty() ? std::string("PREFIX") : key_prefix_;
        throw ConfigError(
            where_ + ": the ACL of user '" + acl_user_ + "' forbids " +
            forbidden_by(reply.text, command) + " (" + reply.text +
            "); check the ACL: grant +@scripting +@read +@write +publish +subscribe +time "
            "(and +wait for --min-replicas, +role with Sentinel, +asking on a Redis Cluster) on ~" +
            prefix + "* &" + prefix + "*");
    }
}

RespValue RedisConnection::exchange(const std::vector<std::string_view>& args,
                                    const StepDeadline& step) {
    // --io-timeout caps one exchange, and the step caps everything it does.
    Deadline own = Deadline::after(io_timeout_);
    const bool step_binds = step.described() && step.at.at() <= own.at();
    Deadline bounded = earliest(own, step.at);
    send(args, bounded);
    std::optional<RespValue> reply = read_reply(bounded);
    if (!reply) fail_no_reply(step, step_binds);
    return std::move(*reply);
}

void RedisConnection::fail_no_reply(const StepDeadline& step, bool step_binds) const {
    fail("no reply within " +
         (step_binds ? step.bound() + "; " : format_duration(io_timeout_) + " (") +
         "check --io-timeout)");
}

void RedisConnection::append_command(std::string& out,
                                     const std::vector<std::string_view>& args) const {
    if (asking_) append_resp_command(out, {"ASKING"});
    append_resp_command(out, args);
}

void RedisConnection::send(const std::vector<std::string_view>& args, Deadline deadline) {
    std::string bytes;
    append_command(bytes, args);
    write_all(bytes, earliest(deadline, Deadline::after(io_timeout_)));
}

std::optional<RespValue> RedisConnection::read_reply(Deadline deadline) {
    for (;;) {
        if (auto reply = take_parsed_reply()) return reply;
        short events = fill_reader();
        if (events == 0) continue;
        if (!wait_for(events, deadline)) return std::nullopt;
    }
}

std::optional<RespValue> RedisConnection::try_read_reply() {
    if (auto reply = take_parsed_reply()) return reply;
    while (fill_reader() == 0) {
        if (auto reply = take_parsed_reply()) return reply;
    }
    return std::nullopt;
}

void RedisConnection::handshake_until(Deadline deadline, const std::string& within) {
    for (;;) {
        IoResult step = tls_->handshake();
        switch (step.kind) {
            case IoResult::Kind::done:
                return;
            case IoResult::Kind::want_read:
            case IoResult::Kind::want_write:
                if (!wait_for(step.kind == IoResult::Kind::want_read ? POLLIN : POLLOUT,
                              deadline)) {
                    throw BackendUnavailable("cannot reach " + where_ +
                                             ": the TLS handshake timed out after " + within);
                }
                break;
            case IoResult::Kind::closed:
                throw BackendUnavailable("cannot reach " + where_ +
                                         ": the server closed the connection during the TLS "
                                         "handshake" +
                                         reach_hint());
            case IoResult::Kind::failed:
                throw BackendUnavailable("cannot reach " + where_ +
                                         ": TLS handshake: " + step.error + reach_hint());
        }
    }
}

void RedisConnection::queue(const std::vector<std::string_view>& args) {
    // The part sent already goes once it is large: the queue holds what is still to send.
    if (outbox_sent_ > (1 << 20)) {
        outbox_.erase(0, outbox_sent_);
        outbox_sent_ = 0;
    }
    append_command(outbox_, args);
}

bool RedisConnection::send_queued() {
    while (queued_bytes() > 0) {
        IoResult written = write_some(std::string_view(outbox_).substr(outbox_sent_));
        switch (written.kind) {
            case IoResult::Kind::done:
                outbox_sent_ += written.bytes;
                break;
            case IoResult::Kind::want_read:  // TLS: a write may need to read first
                outbox_waits_for_ = POLLIN;
                return false;
            case IoResult::Kind::want_write:
                outbox_waits_for_ = POLLOUT;
                return false;
            default:
                fail_after_write(written);
        }
    }
    outbox_.clear();
    outbox_sent_ = 0;
    return true;
}

void RedisConnection::send_queued_by(Deadline deadline) {
    write_all(std::string_view(outbox_).substr(outbox_sent_), deadline);
    outbox_.clear();
    outbox_sent_ = 0;
}

void RedisConnection::write_all(std::string_view bytes, Deadline deadline) {
    while (!bytes.empty()) {
        IoResult written = write_some(bytes);
        switch (written.kind) {
            case IoResult::Kind::done:
                bytes.remove_prefix(written.bytes);
                break;
            case IoResult::Kind::want_read:  // TLS: a write may need to read first
            case IoResult::Kind::want_write:
                if (!wait_for(written.kind == IoResult::Kind::want_read ? POLLIN : POLLOUT,
                              deadline)) {
                    fail("timed out sending a command");
                }
                break;
            default:
                fail_after_write(written);
        }
    }
}

void RedisConnection::fail_after_write(const IoResult& failed) {
    // The server may have said why before it hung up (a TLS alert refusing our certificate,
    // "-ERR max number of clients reached"), and that makes a better message than the reset
    // our write ran into. The read throws ConfigError for a refused certificate.
    std::optional<RespValue> said;
    try {
        if (fill_reader() == 0) said = take_parsed_reply();
    } catch (const BackendUnavailable&) {
        // Nothing to learn from the read: report the write's failure.
    }
    if (said && said->is_error()) {
        throw ServerRefused("lost " + where_ + ": closed by the server: " + said->text, said->text);
    }
    fail(failed);
}

short RedisConnection::fill_reader() {
    char buffer[64 * 1024];
    bool fed = false;
    for (;;) {
        IoResult got = read_some(buffer, sizeof buffer);
        if (got.kind == IoResult::Kind::done) {
            if (redisReaderFeed(reader_.get(), buffer, got.bytes) != REDIS_OK) {
                fail("protocol error");
            }
            fed = true;
            heard_from_server_ = true;
            // Bytes TLS has already taken off the socket are invisible to poll(2): take
            // them now, or a caller polling fd() could wait for a reply that is here.
            if (tls_ && tls_->has_buffered()) continue;
            return 0;
        }
        // What was fed is parsed first; the next call meets the same state again.
        if (fed) return 0;
        switch (got.kind) {
            case IoResult::Kind::want_read:
                return POLLIN;
            case IoResult::Kind::want_write:  // TLS: a read may need to write first
                return POLLOUT;
            default:
                fail(got);
        }
    }
}

IoResult RedisConnection::read_some(char* buffer, std::size_t size) {
    if (tls_) return tls_->read(buffer, size);
    for (;;) {
        ssize_t got = ::recv(socket_.get(), buffer, size, 0);
        if (got > 0) return IoResult::moved(static_cast<std::size_t>(got));
        if (got == 0) return IoResult::of(IoResult::Kind::closed);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return IoResult::of(IoResult::Kind::want_read);
        }
        return IoResult::failure(std::string("connection lost: ") + std::strerror(errno), errno);
    }
}

IoResult RedisConnection::write_some(std::string_view bytes) {
    if (tls_) return tls_->write(bytes);
    for (;;) {
        ssize_t sent = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent >= 0) return IoResult::moved(static_cast<std::size_t>(sent));
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return IoResult::of(IoResult::Kind::want_write);
        }
        return IoResult::failure(std::string("connection lost: ") + std::strerror(errno), errno);
    }
}

std::optional<RespValue> RedisConnection::take_parsed_reply() {
    for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
            fail(std::string("protocol error: ") + reader_->errstr);
        }
        if (raw == nullptr) return std::nullopt;
        std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                      freeReplyObject);
        // On an ASKING connection every command went after an ASKING: replies alternate, the
        // ASKING's +OK first, then the command's (also when several were pipelined).
        if (asking_) {
            asking_ack_next_ = !asking_ack_next_;
            if (!asking_ack_next_) {
                if (reply->type != REDIS_REPLY_STATUS) {
                    // An ACL without +asking is a setting to change (78), not an outage.
                    RespValue refusal = to_value(reply.get());
                    throw_if_refused(refusal, "ASKING");
                    fail("ASKING was answered with " +
                         (refusal.is_error() ? one_line(refusal.text) : "something else than OK"));
                }
                continue;
            }
        }
        return to_value(reply.get());
    }
}

bool RedisConnection::wait_for(short events, Deadline deadline) {
    FdWait waited = wait_for_fd(socket_.get(), events, deadline, interrupt_);
    if (waited == FdWait::failed) fail(std::string("poll: ") + std::strerror(errno));
    return waited == FdWait::ready;
}

void RedisConnection::fail(const std::string& what) const {
    throw BackendUnavailable("lost " + where_ + ": " + what);
}

void RedisConnection::fail(const IoResult& result) const {
    std::string what =
        result.kind == IoResult::Kind::closed ? "connection closed by the server" : result.error;
    // A TLS-only port resets a connection that sends it plain text, without a word back.
    if (plain_tcp_ && !heard_from_server_ &&
        (result.system_error == ECONNRESET || result.system_error == EPIPE)) {
        what += " (if the server speaks TLS only, use rediss://)";
    }
    fail(what);
}

}  // namespace lockrun
