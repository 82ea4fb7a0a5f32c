#include "backend/redis/redis_connection.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string describe_url(const RedisUrl& url) { return url.redacted(); }

std::string reach_hint() { return " (is redis-server running there? check --redis)"; }

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
    for (;;) {
        pollfd fds[2] = {{fd, POLLOUT, 0}, {interrupt ? interrupt->fd() : -1, POLLIN, 0}};
        int ready = ::poll(fds, 2, deadline.poll_timeout_ms());
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return errno;
        if (fds[1].revents & POLLIN) interrupt->throw_if_interrupted();
        if (fds[0].revents) {
            int error = 0;
            socklen_t len = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            return error;
        }
        if (deadline.passed()) return ETIMEDOUT;
    }
}

UniqueFd connect_unix(const RedisUrl& url, Deadline deadline, InterruptSource* interrupt) {
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
                    ? finish_connect(fd.get(), deadline, interrupt)
                    : errno;
    }
    if (error != 0) {
        std::string reason = error == ETIMEDOUT ? "timed out" : std::strerror(error);
        throw BackendUnavailable("cannot reach " + describe_url(url) + ": " + reason +
                                 reach_hint());
    }
    return fd;
}

UniqueFd connect_tcp(const RedisUrl& url, Deadline deadline, InterruptSource* interrupt) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(url.port);
    int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) {
        throw BackendUnavailable("cannot reach " + describe_url(url) + ": cannot resolve host '" +
                                 url.host + "': " + ::gai_strerror(rc) + " (check --redis)");
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
    std::string last_reason = "no address";
    for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
        UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                             a->ai_protocol));
        if (!fd.valid()) continue;
        int error = 0;
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
            error = errno == EINPROGRESS ? finish_connect(fd.get(), deadline, interrupt) : errno;
        }
        if (error == 0) {
            int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        last_reason = error == ETIMEDOUT ? "timed out" : std::strerror(error);
        if (deadline.passed()) break;
    }
    throw BackendUnavailable("cannot reach " + describe_url(url) + ": " + last_reason +
                             reach_hint());
}

bool is_auth_error(const RespValue& reply) {
    return reply.is_error() &&
           (reply.text.starts_with("WRONGPASS") || reply.text.starts_with("NOAUTH") ||
            reply.text.starts_with("ERR invalid password") ||
            reply.text.starts_with("ERR AUTH") || reply.text.starts_with("NOPERM"));
}

}  // namespace

RedisConnection RedisConnection::open(const ConnectionSettings& settings,
                                      InterruptSource* interrupt) {
    const RedisUrl& url = settings.url;
    Deadline deadline = Deadline::after(settings.connect_timeout);
    UniqueFd socket;
    try {
        socket = url.transport == RedisUrl::Transport::unix_socket
                     ? connect_unix(url, deadline, interrupt)
                     : connect_tcp(url, deadline, interrupt);
    } catch (const BackendUnavailable& e) {
        // The timeout message is built here, where the configured value is known.
        if (deadline.passed()) {
            throw BackendUnavailable("cannot reach " + describe_url(url) + ": timed out after " +
                                     format_duration(settings.connect_timeout) +
                                     " (check --redis and --connect-timeout)");
        }
        throw;
    }
    if (url.transport == RedisUrl::Transport::tls) {
        throw ConfigError("rediss:// (TLS) is not supported yet: " + describe_url(url));
    }
    RedisConnection connection(std::move(socket), describe_url(url), settings.io_timeout,
                               interrupt);
    if (!url.password.empty()) {
        std::vector<std::string_view> auth = {"AUTH"};
        if (!url.user.empty()) auth.push_back(url.user);
        auth.push_back(url.password);
        RespValue reply = connection.call(auth, deadline);
        if (reply.is_error()) {
            throw ConfigError(describe_url(url) + " rejected the login" +
                              (url.user.empty() ? "" : " of user '" + url.user + "'") +
                              " (check the user and password)");
        }
    }
    if (url.db != 0) {
        std::string db = std::to_string(url.db);
        RespValue reply = connection.call({"SELECT", db}, deadline);
        if (is_auth_error(reply)) {
            throw ConfigError(describe_url(url) + " requires a password (" + reply.text + ")");
        }
        if (reply.is_error()) {
            throw ConfigError(describe_url(url) + " refused db " + db + ": " + reply.text);
        }
    }
    return connection;
}

RedisConnection::RedisConnection(UniqueFd socket, std::string where, Millis io_timeout,
                                 InterruptSource* interrupt)
    : socket_(std::move(socket)),
      reader_(redisReaderCreate()),
      where_(std::move(where)),
      io_timeout_(io_timeout),
      interrupt_(interrupt) {
    if (!reader_) throw InternalError("out of memory creating a RESP reader");
}

RedisConnection::RedisConnection(RedisConnection&&) noexcept = default;
RedisConnection& RedisConnection::operator=(RedisConnection&&) noexcept = default;
RedisConnection::~RedisConnection() = default;

RespValue RedisConnection::call(const std::vector<std::string_view>& args, Deadline deadline) {
    Deadline bounded = earliest(deadline, Deadline::after(io_timeout_));
    send(args, bounded);
    std::optional<RespValue> reply = read_reply(bounded);
    if (!reply) fail("no reply within " + format_duration(io_timeout_) + " (check --io-timeout)");
    if (is_auth_error(*reply)) {
        throw ConfigError(where_ + " refused the command: " + reply->text +
                          " (set the password in the URL or LOCKRUN_REDIS_PASSWORD)");
    }
    return std::move(*reply);
}

void RedisConnection::send(const std::vector<std::string_view>& args, Deadline deadline) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                        lengths.data());
    if (length < 0) throw InternalError("cannot format a Redis command");
    std::unique_ptr<char, decltype(&redisFreeCommand)> owned(formatted, redisFreeCommand);
    write_all(std::string_view(formatted, static_cast<size_t>(length)),
              earliest(deadline, Deadline::after(io_timeout_)));
}

std::optional<RespValue> RedisConnection::read_reply(Deadline deadline) {
    for (;;) {
        if (auto reply = take_parsed_reply()) return reply;
        if (fill_reader()) continue;
        if (!wait_for(POLLIN, deadline)) return std::nullopt;
    }
}

std::optional<RespValue> RedisConnection::try_read_reply() {
    if (auto reply = take_parsed_reply()) return reply;
    while (fill_reader()) {
        if (auto reply = take_parsed_reply()) return reply;
    }
    return std::nullopt;
}

void RedisConnection::write_all(std::string_view bytes, Deadline deadline) {
    while (!bytes.empty()) {
        ssize_t written = ::send(socket_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (written > 0) {
            bytes.remove_prefix(static_cast<size_t>(written));
        } else if (written < 0 && errno == EINTR) {
            continue;
        } else if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(POLLOUT, deadline)) fail("timed out sending a command");
        } else {
            fail(std::string("connection lost: ") + std::strerror(errno));
        }
    }
}

bool RedisConnection::fill_reader() {
    char buffer[64 * 1024];
    for (;;) {
        ssize_t got = ::recv(socket_.get(), buffer, sizeof buffer, 0);
        if (got > 0) {
            if (redisReaderFeed(reader_.get(), buffer, static_cast<size_t>(got)) != REDIS_OK) {
                fail("protocol error");
            }
            return true;
        }
        if (got == 0) fail("connection closed by the server");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        fail(std::string("connection lost: ") + std::strerror(errno));
    }
}

std::optional<RespValue> RedisConnection::take_parsed_reply() {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        fail(std::string("protocol error: ") + reader_->errstr);
    }
    if (raw == nullptr) return std::nullopt;
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                  freeReplyObject);
    return to_value(reply.get());
}

bool RedisConnection::wait_for(short events, Deadline deadline) {
    for (;;) {
        int interrupt_fd = interrupt_ ? interrupt_->fd() : -1;
        pollfd fds[2] = {{socket_.get(), events, 0}, {interrupt_fd, POLLIN, 0}};
        int ready = ::poll(fds, 2, deadline.poll_timeout_ms());
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) fail(std::string("poll: ") + std::strerror(errno));
        if (fds[1].revents & POLLIN) interrupt_->throw_if_interrupted();
        if (fds[0].revents) return true;
        if (deadline.passed()) return false;
    }
}

void RedisConnection::fail(const std::string& what) const {
    throw BackendUnavailable("lost " + where_ + ": " + what);
}

}  // namespace lockrun
