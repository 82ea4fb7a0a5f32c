#include "cli/operator_commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <variant>

#include "core/errors.hpp"
#include "util/json.hpp"
#include "util/one_line.hpp"
#include "util/size.hpp"
#include "util/utf8.hpp"
#include "util/wall_clock.hpp"
#include "util/write_all.hpp"

namespace lockrun {
namespace {

std::string iso_time(std::int64_t unix_ms) {
    std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string ago(std::int64_t unix_ms) {
    Millis age(std::max<std::int64_t>(0, unix_now_ms() - unix_ms));
    return format_duration(std::chrono::floor<std::chrono::seconds>(age)) + " ago";
}

std::string lease_text(Millis left) {
    return left == k_infinite ? "while its process lives" : format_duration(left);
}

std::string ttl_text(Millis left) {
    return left == k_infinite ? "never"
                              : format_duration(std::chrono::ceil<std::chrono::seconds>(left));
}

const CachedResult* readable(const StoredResult& stored) {
    return std::get_if<CachedResult>(&stored.record);
}

std::string cache_line(const std::optional<StoredResult>& stored) {
    if (!stored) return "none";
    if (auto* bad = std::get_if<UnreadableRecord>(&stored->record)) {
        return "unreadable (" + bad->reason + "), " + format_size(stored->size_bytes);
    }
    const CachedResult& result = *readable(*stored);
    return "exit " + std::to_string(result.exit_code) + ", " + format_size(result.output_bytes()) +
           " of output, stored " + ago(result.created_unix_ms) + " on " + one_line(result.host) +
           ", expires in " + ttl_text(stored->ttl_left);
}

std::string ms_or_null(Millis value) {
    return value == k_infinite ? "null" : std::to_string(value.count());
}

// The object of one key, without its closing brace, for status and list.
std::string status_json_fields(const std::string& key, const KeyStatus& status) {
    std::string out =
        "{\"key\":" + json_string(key) + ",\"held\":" + (status.holder ? "true" : "false");
    if (status.holder) {
        const LockHeld& held = *status.holder;
        out += ",\"holder\":{\"host\":" + json_string(held.holder.host) +
               ",\"pid\":" + std::to_string(held.holder.pid) +
               ",\"user\":" + json_string(held.holder.user) +
               ",\"command\":" + json_string(held.holder.command) +
               ",\"started_unix_ms\":" + std::to_string(held.holder.started_unix_ms) +
               "},\"lease_left_ms\":" + ms_or_null(held.lease_left) +
               ",\"fence\":" + std::to_string(held.fence);
    }
    out += ",\"cache\":";
    if (!status.stored) {
        out += "null";
    } else if (const CachedResult* result = readable(*status.stored)) {
        out += "{\"exit_code\":" + std::to_string(result->exit_code) +
               ",\"created_unix_ms\":" + std::to_string(result->created_unix_ms) +
               ",\"age_ms\":" + std::to_string(unix_now_ms() - result->created_unix_ms) +
               ",\"ttl_left_ms\":" + ms_or_null(status.stored->ttl_left) +
               ",\"duration_ms\":" + std::to_string(result->duration_ms) +
               ",\"host\":" + json_string(result->host) +
               ",\"output_bytes\":" + std::to_string(result->output_bytes()) +
               ",\"size_bytes\":" + std::to_string(status.stored->size_bytes) + "}";
    } else {
        out += "{\"unreadable\":" +
               json_string(std::get<UnreadableRecord>(status.stored->record).reason) + "}";
    }
    return out;
}

std::string holder_text(const LockHeld& held) {
    std::string text =
        "pid " + std::to_string(held.holder.pid) + " on " + one_line(held.holder.host);
    if (!held.holder.user.empty()) text += " (user " + one_line(held.holder.user) + ")";
    return text;
}

}  // namespace

int show_status(Backend& backend, const std::string& key, bool json, const BackendChoice& choice) {
    KeyStatus status = backend.read_status();
    if (json) {
        std::cout << status_json_fields(key, status)
                  << ",\"backend\":{\"name\":" << (choice.redis ? "\"redis\"" : "\"local\"")
                  << ",\"source\":" << json_string(choice.source) << "}}\n"
                  << std::flush;
        return 0;
    }
    std::cout << "key:        " << key << "\n";
    std::cout << "backend:    " << choice.description << "\n";
    if (!status.holder) {
        std::cout << "state:      free\n";
    } else {
        const LockHeld& held = *status.holder;
        std::cout << "state:      held\n";
        std::cout << "holder:     " << holder_text(held) << "\n";
        std::cout << "command:    " << one_line(held.holder.command) << "\n";
        if (held.holder.started_unix_ms > 0) {
            std::cout << "started:    " << iso_time(held.holder.started_unix_ms) << " ("
                      << ago(held.holder.started_unix_ms) << ")\n";
        }
        std::cout << "lease left: " << lease_text(held.lease_left) << "\n";
        std::cout << "fence:      " << held.fence << "\n";
    }
    std::cout << "cache:      " << cache_line(status.stored) << "\n" << std::flush;
    return 0;
}

int list_keys(Backend& backend, bool json) {
    std::vector<ListedKey> keys = backend.list_keys();
    if (json) {
        std::string out = "[";
        for (const ListedKey& listed : keys) {
            out += (out.size() > 1 ? "," : "") + status_json_fields(listed.key, listed.status) +
                   ",\"name_known\":" + (listed.name_known ? "true" : "false") + "}";
        }
        write_all(STDOUT_FILENO, out + "]\n");
        return 0;
    }
    if (keys.empty()) {
        std::fprintf(stderr, "lockrun: no key has a held lock or a stored result\n");
        return 0;
    }
    std::string out;
    for (const ListedKey& listed : keys) {
        out += listed.name_known ? one_line(listed.key)
                                 : "(a key whose SHA-256 is " + listed.key + ")";
        out += listed.status.holder ? ": held by " + holder_text(*listed.status.holder) +
                                          ", fence " + std::to_string(listed.status.holder->fence)
                                    : ": free";
        out += "; cache: " + cache_line(listed.status.stored) + "\n";
    }
    write_all(STDOUT_FILENO, out);
    return 0;
}

int release_lock(Backend& backend, const std::string& key, bool force) {
    if (!force) {
        throw UsageError("release frees " + key +
                         " even while its holder runs; say --force to do it");
    }
    KeyStatus status = backend.read_status();
    bool was_held = backend.force_release();
    if (was_held && status.holder) {
        std::cout << "released " << key << " (held by " << holder_text(*status.holder) << ", fence "
                  << status.holder->fence << ")\n";
    } else {
        std::cout << key << " was not held\n";
    }
    return 0;
}

int show_cached_result(Backend& backend, const std::string& key, bool json) {
    std::optional<StoredResult> stored = backend.read_status().stored;
    if (!stored) {
        std::fprintf(stderr, "lockrun: nothing is cached for %s\n", key.c_str());
        return 1;
    }
    const CachedResult* result = readable(*stored);
    if (!result) {
        std::fprintf(stderr, "lockrun: the cached result of %s is unreadable: %s\n", key.c_str(),
                     std::get<UnreadableRecord>(stored->record).reason.c_str());
        return 1;
    }
    if (!json) {
        write_all(STDOUT_FILENO, result->stdout_bytes());
        return 0;
    }
    std::string out = "{\"key\":" + json_string(key) +
                      ",\"exit_code\":" + std::to_string(result->exit_code) +
                      ",\"created_unix_ms\":" + std::to_string(result->created_unix_ms) +
                      ",\"duration_ms\":" + std::to_string(result->duration_ms) +
                      ",\"ttl_left_ms\":" + ms_or_null(stored->ttl_left) +
                      ",\"host\":" + json_string(result->host) + ",\"output\":[";
    bool first = true;
    for (const OutputChunk& chunk : result->output) {
        out += first ? "{" : ",{";
        first = false;
        out += std::string("\"stream\":") +
               (chunk.stream == OutputStream::stdout_stream ? "\"stdout\"" : "\"stderr\"");
        // Text stays readable; anything else is carried exactly, as base64.
        out += is_valid_utf8(chunk.bytes) ? ",\"text\":" + json_string(chunk.bytes)
                                          : ",\"base64\":\"" + base64(chunk.bytes) + "\"";
        out += "}";
    }
    out += "]}\n";
    write_all(STDOUT_FILENO, out);
    return 0;
}

int drop_cached_result(Backend& backend, const std::string& key) {
    bool dropped = backend.drop_stored_result();
    std::cout << (dropped ? "dropped the cached result of " : "nothing was cached for ") << key
              << "\n";
    return 0;
}

}  // namespace lockrun
