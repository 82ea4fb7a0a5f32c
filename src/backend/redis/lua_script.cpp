#include "backend/redis/lua_script.hpp"

#include "core/errors.hpp"
#include "util/digest.hpp"

namespace lockrun {

namespace {

std::string_view without_header(std::string_view source) {
    if (!source.starts_with("#!")) return source;
    std::size_t newline = source.find('\n');
    return newline == std::string_view::npos ? std::string_view() : source.substr(newline + 1);
}

}  // namespace

LuaScript::LuaScript(std::string_view source)
    : source_(source), headless_source_(without_header(source)) {}

std::string_view LuaScript::source_for(const RedisConnection& connection) const {
    return connection.scripts_without_header() ? headless_source_ : source_;
}

const std::string& LuaScript::sha1_for(const RedisConnection& connection) const {
    // Hashed when first sent: a run calls two or three of its backend's eleven scripts, and
    // hashing all of them, twice, took a third of the instructions of an uncontended run.
    std::string& sha1 = connection.scripts_without_header() ? headless_sha1_ : sha1_;
    if (sha1.empty()) sha1 = sha1_hex(source_for(connection));
    return sha1;
}

bool LuaScript::is_header_refused(const RespValue& reply) {
    // Redis 6.2: "ERR Error compiling script (new function): user_script:1: unexpected
    // symbol near '#'"; the line and the '#' are what matter, not the wording around them.
    return reply.is_error() && reply.text.find(":1:") != std::string::npos &&
           reply.text.find("'#'") != std::string::npos;
}

std::vector<std::string_view> LuaScript::command(std::string_view verb, std::string_view script,
                                                 const std::vector<std::string_view>& keys,
                                                 const std::vector<std::string_view>& args,
                                                 std::string& key_count) const {
    key_count = std::to_string(keys.size());
    std::vector<std::string_view> command{verb, script, key_count};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    return command;
}

RespValue LuaScript::call(RedisConnection& connection, const std::vector<std::string_view>& keys,
                          const std::vector<std::string_view>& args,
                          const StepDeadline& step) const {
    std::string key_count;
    RespValue reply =
        connection.call(command("EVALSHA", sha1_for(connection), keys, args, key_count), step);
    if (!is_noscript(reply)) return reply;
    reply = connection.call(command("EVAL", source_for(connection), keys, args, key_count), step);
    if (is_header_refused(reply) && !connection.scripts_without_header()) {
        connection.send_scripts_without_header();
        return call(connection, keys, args, step);
    }
    throw_if_noscript_again(connection, reply);
    return reply;
}

void LuaScript::throw_if_noscript_again(const RedisConnection& connection, const RespValue& reply) {
    // The script was sent whole: a server (or a proxy before it) that still answers NOSCRIPT
    // will never run it, and asking again would loop.
    if (!is_noscript(reply)) return;
    throw ConfigError(connection.where() +
                      " answered NOSCRIPT to EVAL, after the script was sent whole (" + reply.text +
                      "): a proxy or server that does not run Lua scripts cannot "
                      "serve lockrun (connect to Redis itself)");
}

std::vector<RespValue> LuaScript::call_each(
    RedisConnection& connection, const std::vector<std::vector<std::string>>& keys_per_call,
    const StepDeadline& step) const {
    std::vector<std::string> key_counts(keys_per_call.size());
    std::vector<std::vector<std::string_view>> commands;
    commands.reserve(keys_per_call.size());
    for (std::size_t i = 0; i < keys_per_call.size(); ++i) {
        std::vector<std::string_view> keys(keys_per_call[i].begin(), keys_per_call[i].end());
        commands.push_back(command("EVALSHA", sha1_for(connection), keys, {}, key_counts[i]));
    }
    std::vector<RespValue> replies = connection.call_pipelined(commands, step);
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (!is_noscript(replies[i])) continue;
        std::vector<std::string_view> keys(keys_per_call[i].begin(), keys_per_call[i].end());
        replies[i] = call(connection, keys, {}, step);
    }
    return replies;
}

void LuaScript::send_by_sha(RedisConnection& connection, const std::vector<std::string_view>& keys,
                            const std::vector<std::string_view>& args, Deadline deadline) const {
    std::string key_count;
    connection.send(command("EVALSHA", sha1_for(connection), keys, args, key_count), deadline);
}

void LuaScript::queue_by_sha(RedisConnection& connection, const std::vector<std::string_view>& keys,
                             const std::vector<std::string_view>& args) const {
    std::string key_count;
    connection.queue(command("EVALSHA", sha1_for(connection), keys, args, key_count));
}

void LuaScript::queue_by_source(RedisConnection& connection,
                                const std::vector<std::string_view>& keys,
                                const std::vector<std::string_view>& args) const {
    std::string key_count;
    connection.queue(command("EVAL", source_for(connection), keys, args, key_count));
}

void LuaScript::send_by_source(RedisConnection& connection,
                               const std::vector<std::string_view>& keys,
                               const std::vector<std::string_view>& args, Deadline deadline) const {
    std::string key_count;
    connection.send(command("EVAL", source_for(connection), keys, args, key_count), deadline);
}

bool LuaScript::is_noscript(const RespValue& reply) {
    return reply.is_error() && reply.text.starts_with("NOSCRIPT");
}

}  // namespace lockrun
