#pragma once
// A Lua script called by its SHA1 (EVALSHA), falling back to sending its text (EVAL) when
// the server does not have it cached yet: one round trip in the common case.
//
// A server that does not know Redis 7's "#!lua" first line (Redis 6.x, KeyDB, ...) refuses
// to compile the script; the connection then switches, once, to the same script without
// that line (SPEC §5: each script's first write comes before any other, so it stays
// all-or-nothing there too).

#include <string>
#include <string_view>
#include <vector>

#include "backend/redis/redis_connection.hpp"

namespace lockrun {

class LuaScript {
public:
    explicit LuaScript(std::string_view source);

    // EVALSHA, and EVAL after a NOSCRIPT reply: both within the one step. Throws ConfigError
    // when EVAL too is answered NOSCRIPT.
    RespValue call(RedisConnection& connection, const std::vector<std::string_view>& keys,
                   const std::vector<std::string_view>& args, const StepDeadline& step) const;
    // One call per set of keys (no args), pipelined in one round trip; a NOSCRIPT reply is
    // answered by call(), within the same step. Replies in the order of `keys_per_call`.
    std::vector<RespValue> call_each(RedisConnection& connection,
                                     const std::vector<std::vector<std::string>>& keys_per_call,
                                     const StepDeadline& step) const;

    // For a call whose reply is read later: send EVALSHA now; if that reply turns out to be
    // a NOSCRIPT error, send_by_source() and read again.
    void send_by_sha(RedisConnection& connection, const std::vector<std::string_view>& keys,
                     const std::vector<std::string_view>& args, Deadline deadline) const;
    void send_by_source(RedisConnection& connection, const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& args, Deadline deadline) const;
    // EVALSHA, or EVAL with the text (which loads it), queued on the connection
    // (RedisConnection::queue): sent and answered later.
    void queue_by_sha(RedisConnection& connection, const std::vector<std::string_view>& keys,
                      const std::vector<std::string_view>& args) const;
    void queue_by_source(RedisConnection& connection, const std::vector<std::string_view>& keys,
                         const std::vector<std::string_view>& args) const;
    static bool is_noscript(const RespValue& reply);
    // The compiler error of a server that does not know the "#!lua" line.
    static bool is_header_refused(const RespValue& reply);
    // For the reply to send_by_source(): NOSCRIPT again is ConfigError (a server or proxy
    // that will never run the script), not a reason to send it once more.
    static void throw_if_noscript_again(const RedisConnection& connection, const RespValue& reply);

private:
    std::vector<std::string_view> command(std::string_view verb, std::string_view script,
                                          const std::vector<std::string_view>& keys,
                                          const std::vector<std::string_view>& args,
                                          std::string& key_count) const;
    // The source and SHA1 that `connection` takes: with the "#!lua" line, or without it.
    std::string_view source_for(const RedisConnection& connection) const;
    const std::string& sha1_for(const RedisConnection& connection) const;

    std::string_view source_;
    std::string_view headless_source_;  // source_ after its first line
    // Their SHA1s, empty until sha1_for() first needs them.
    mutable std::string sha1_;
    mutable std::string headless_sha1_;
};

}  // namespace lockrun
