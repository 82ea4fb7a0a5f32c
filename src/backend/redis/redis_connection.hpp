#pragma once
// One connection to a Redis server on a socket that lockrun owns (Debian's hiredis 0.14
// has neither TLS nor usable timeouts): hiredis formats commands and parses replies, we do
// the I/O, so every operation has a deadline and a pending signal can cut a wait short.

#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/redis/redis_url.hpp"
#include "backend/redis/resp_value.hpp"
#include "core/interrupt_source.hpp"
#include "util/deadline.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

struct ConnectionSettings {
    RedisUrl url;
    Millis connect_timeout{2000};
    Millis io_timeout{2000};
};

class RedisConnection {
public:
    // Connects, authenticates and selects the db, all within connect_timeout. Throws
    // BackendUnavailable when the server cannot be reached, ConfigError when it rejects
    // the credentials or the db, Interrupted when `interrupt` fires first (may be null).
    static RedisConnection open(const ConnectionSettings& settings, InterruptSource* interrupt);

    RedisConnection(RedisConnection&&) noexcept;
    RedisConnection& operator=(RedisConnection&&) noexcept;
    ~RedisConnection();

    // Sends one command and returns its reply (an error reply is returned, not thrown).
    // Throws BackendUnavailable when the deadline passes or the connection drops.
    RespValue call(const std::vector<std::string_view>& args, Deadline deadline);

    // Queues and flushes one command without reading its reply.
    void send(const std::vector<std::string_view>& args, Deadline deadline);
    // Waits for the next reply (or pushed message) until the deadline; nullopt on timeout.
    std::optional<RespValue> read_reply(Deadline deadline);
    // Returns a reply if one is already complete or can be read without blocking.
    std::optional<RespValue> try_read_reply();

    int fd() const { return socket_.get(); }
    // The server, for messages: the URL without its password.
    const std::string& where() const { return where_; }
    void set_interrupt(InterruptSource* interrupt) { interrupt_ = interrupt; }

private:
    RedisConnection(UniqueFd socket, std::string where, Millis io_timeout,
                    InterruptSource* interrupt);
    void write_all(std::string_view bytes, Deadline deadline);
    // Reads once what the socket has; false when it would block.
    bool fill_reader();
    std::optional<RespValue> take_parsed_reply();
    // Polls for `events` until the deadline or a signal; false on timeout.
    bool wait_for(short events, Deadline deadline);
    [[noreturn]] void fail(const std::string& what) const;

    struct ReaderDeleter {
        void operator()(redisReader* r) const { redisReaderFree(r); }
    };
    UniqueFd socket_;
    std::unique_ptr<redisReader, ReaderDeleter> reader_;
    std::string where_;
    Millis io_timeout_;
    InterruptSource* interrupt_ = nullptr;
};

}  // namespace lockrun
