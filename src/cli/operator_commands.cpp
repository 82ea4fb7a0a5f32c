#include "cli/operator_commands.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <sstream>
#include <variant>

#include "cli/standard_output.hpp"
#include "core/errors.hpp"
#include "core/holder_text.hpp"
#include "exec/host_identity.hpp"
#include "util/json.hpp"
#include "util/one_line.hpp"
#include "util/size.hpp"
#include "util/utf8.hpp"
#include "util/wall_clock.hpp"

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
        return fmt::format("unreadable ({}), {}", bad->reason, format_size(stored->size_bytes));
    }
    const CachedResult& result = *readable(*stored);
    std::string files;
    for (const std::string& path : result.files) files += (files.empty() ? "" : " ") + path;
    if (!files.empty()) {
        files = fmt::format(" and --files {} ({} archived)", one_line(files),
                            format_size(result.files_archive_bytes));
    }
    return fmt::format("exit {}, {} of output{}, stored {} on {}, expires in {}", result.exit_code,
                       format_size(result.output_bytes()), files, ago(result.created_unix_ms),
                       one_line(result.host), ttl_text(stored->ttl_left));
}

std::vector<std::string> quoted(const std::vector<std::string>& texts) {
    std::vector<std::string> strings;
    for (const std::string& text : texts) strings.push_back(json_string(text));
    return strings;
}

// Several holders at once: a semaphore's, or readers.
bool has_several_holders(const KeyStatus& status) {
    return status.max_holders > 1 || status.shared;
}

// "held by 2 of 3 (-n 3)" for a semaphore, "held by 2 readers (--shared)", "held" for a lock.
std::string held_text(const KeyStatus& status) {
    if (status.shared) {
        return fmt::format("held by {} reader{} (--shared)", status.holders.size(),
                           status.holders.size() == 1 ? "" : "s");
    }
    if (status.max_holders <= 1) return "held";
    return fmt::format("held by {} of {} (-n {})", status.holders.size(), status.max_holders,
                       status.max_holders);
}

std::string ms_or_null(Millis value) {
    return value == k_infinite ? "null" : std::to_string(value.count());
}

// The object of one key, left open for status and list to add to.
JsonObject status_json(const std::string& key, const KeyStatus& status) {
    JsonObject out;
    out.string("key", key).boolean("held", status.holder.has_value());
    if (status.holder) {
        const HolderInfo& holder = status.holder->holder;
        out.raw("holder", JsonObject()
                              .string("host", holder.host)
                              .number("pid", holder.pid)
                              .string("user", holder.user)
                              .string("command", holder.command)
                              .number("started_unix_ms", holder.started_unix_ms)
                              .str())
            .raw("lease_left_ms", ms_or_null(status.holder->lease_left))
            .number("fence", status.holder->fence);
    }
    // Every holder, the same shape for a lock, a semaphore and readers.
    std::vector<std::string> holders;
    for (const LockHeld& held : status.holders) {
        holders.push_back(JsonObject()
                              .string("host", held.holder.host)
                              .number("pid", held.holder.pid)
                              .string("user", held.holder.user)
                              .string("command", held.holder.command)
                              .number("started_unix_ms", held.holder.started_unix_ms)
                              .raw("lease_left_ms", ms_or_null(held.lease_left))
                              .number("fence", held.fence)
                              .str());
    }
    out.boolean("shared", status.shared)
        .raw("max_holders", status.shared ? "null" : std::to_string(status.max_holders))
        .raw("holders", json_array(holders));
    if (!status.stored) return out.raw("cache", "null");
    const CachedResult* result = readable(*status.stored);
    if (!result) {
        const std::string& reason = std::get<UnreadableRecord>(status.stored->record).reason;
        return out.raw("cache", JsonObject().string("unreadable", reason).str());
    }
    return out.raw("cache", JsonObject()
                                .number("exit_code", result->exit_code)
                                .number("created_unix_ms", result->created_unix_ms)
                                .number("age_ms", unix_now_ms() - result->created_unix_ms)
                                .raw("ttl_left_ms", ms_or_null(status.stored->ttl_left))
                                .number("duration_ms", result->duration_ms)
                                .string("host", result->host)
                                .number("output_bytes", result->output_bytes())
                                .raw("files", json_array(quoted(result->files)))
                                .number("files_archive_bytes", result->files_archive_bytes)
                                .number("size_bytes", status.stored->size_bytes)
                                .str());
}

}  // namespace

// The status with its holders' users named, where this host can name them.
KeyStatus with_user_name(KeyStatus status) {
    if (status.holder) status.holder->holder = holder_with_user_name(status.holder->holder);
    for (LockHeld& held : status.holders) held.holder = holder_with_user_name(held.holder);
    return status;
}

int show_status(Backend& backend, const std::string& key, bool json, const BackendChoice& choice) {
    KeyStatus status = with_user_name(backend.read_status());
    if (json) {
        JsonObject backend_json;
        backend_json.string("name", choice.redis ? "redis" : "local")
            .string("source", choice.source);
        print_to_stdout(status_json(key, status).raw("backend", backend_json.str()).str() + "\n");
        return 0;
    }
    std::ostringstream out;
    out << "key:        " << key << "\n";
    out << "backend:    " << choice.description << "\n";
    if (!status.holder) {
        out << "state:      free\n";
    } else {
        out << "state:      " << held_text(status) << "\n";
        const std::vector<LockHeld> holders =
            status.holders.empty() ? std::vector<LockHeld>{*status.holder} : status.holders;
        for (const LockHeld& held : holders) {
            out << "holder:     " << holder_text(held.holder) << "\n";
            out << "command:    " << one_line(held.holder.command) << "\n";
            if (held.holder.started_unix_ms > 0) {
                out << "started:    " << iso_time(held.holder.started_unix_ms) << " ("
                    << ago(held.holder.started_unix_ms) << ")\n";
            }
            out << "lease left: " << lease_text(held.lease_left) << "\n";
            out << "fence:      " << held.fence << "\n";
        }
    }
    out << "cache:      " << cache_line(status.stored) << "\n";
    print_to_stdout(out.str());
    return 0;
}

int list_keys(Backend& backend, bool json, TerminalReporter& reporter) {
    std::vector<ListedKey> keys = backend.list_keys();
    for (ListedKey& listed : keys) listed.status = with_user_name(std::move(listed.status));
    if (json) {
        std::vector<std::string> objects;
        for (const ListedKey& listed : keys) {
            objects.push_back(status_json(listed.key, listed.status)
                                  .boolean("name_known", listed.name_known)
                                  .str());
        }
        print_to_stdout(json_array(objects) + "\n");
        return 0;
    }
    if (keys.empty()) {
        reporter.notice("no key has a held lock or a stored result");
        return 0;
    }
    std::string out;
    for (const ListedKey& listed : keys) {
        out += listed.name_known ? one_line(listed.key)
                                 : fmt::format("(a key whose SHA-256 is {})", listed.key);
        if (has_several_holders(listed.status)) {
            out += listed.status.holder ? ": " + held_text(listed.status) : ": free";
        } else {
            out += listed.status.holder ? fmt::format(": held by {}, fence {}",
                                                      holder_text(listed.status.holder->holder),
                                                      listed.status.holder->fence)
                                        : ": free";
        }
        out += "; cache: " + cache_line(listed.status.stored) + "\n";
    }
    print_to_stdout(out);
    return 0;
}

int release_lock(Backend& backend, const std::string& key, bool force) {
    if (!force) {
        throw UsageError(
            fmt::format("release frees {} even while its holder runs; say --force to do it", key));
    }
    KeyStatus status = with_user_name(backend.read_status());
    bool was_held = backend.force_release();
    if (was_held && has_several_holders(status) && !status.holders.empty()) {
        print_to_stdout(
            fmt::format("released {} (all {} of its holders)\n", key, status.holders.size()));
    } else if (was_held && status.holder) {
        print_to_stdout(fmt::format("released {} (held by {}, fence {})\n", key,
                                    holder_text(status.holder->holder), status.holder->fence));
    } else if (was_held) {
        print_to_stdout("released " + key + "\n");
    } else {
        print_to_stdout(key + " was not held\n");
    }
    return 0;
}

namespace {

// `cache show --json`'s "output": one {"stream", "text" or "base64"} object per run of one
// stream's bytes, written out every k_json_chunk bytes so that memory stays bounded.
class JsonChunkWriter {
public:
    void add(OutputStream stream, std::string_view bytes) {
        if (stream != stream_ && !bytes_.empty()) flush();
        stream_ = stream;
        bytes_ += bytes;
        if (bytes_.size() >= k_json_chunk) flush(utf8_cut(bytes_));
    }
    // Writes out the first `size` bytes kept (all by default).
    void flush(std::size_t size = std::string::npos) {
        std::string_view chunk = std::string_view(bytes_).substr(0, size);
        if (chunk.empty()) return;
        JsonObject object;
        object.string("stream", stream_ == OutputStream::stdout_stream ? "stdout" : "stderr");
        // Text stays readable; anything else is carried exactly, as base64.
        if (is_valid_utf8(chunk)) {
            object.string("text", chunk);
        } else {
            object.string("base64", base64(chunk));
        }
        print_to_stdout((first_ ? "" : ",") + object.str());
        first_ = false;
        bytes_.erase(0, chunk.size());
    }

private:
    static constexpr std::size_t k_json_chunk = 1024 * 1024;
    // Where to cut `bytes` so that a character is not split between two chunks (which
    // would make both base64): before an incomplete last character, else at the end.
    static std::size_t utf8_cut(std::string_view bytes) {
        for (std::size_t back = 1; back <= 4 && back <= bytes.size(); ++back) {
            auto byte = static_cast<unsigned char>(bytes[bytes.size() - back]);
            if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: look further back
            std::size_t length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
            return length > back ? bytes.size() - back : bytes.size();
        }
        return bytes.size();
    }

    OutputStream stream_ = OutputStream::stdout_stream;
    std::string bytes_;
    bool first_ = true;
};

}  // namespace

int show_cached_result(Backend& backend, const std::string& key, bool json,
                       TerminalReporter& reporter) {
    std::optional<StoredResult> stored = backend.read_status().stored;
    const CachedResult* result = stored ? readable(*stored) : nullptr;
    if (!result) {
        // A miss is exit 1 and one line; with --json, also the document that says so.
        std::string unreadable =
            stored ? std::get<UnreadableRecord>(stored->record).reason : std::string();
        reporter.error(stored ? "the cached result of " + key + " is unreadable: " + unreadable
                              : "nothing is cached for " + key);
        if (json) {
            JsonObject miss;
            miss.string("key", key).boolean("cached", false);
            if (stored) miss.string("unreadable", unreadable);
            print_to_stdout(miss.str() + "\n");
        }
        return 1;
    }
    auto stopped_short = [&](const std::string& why) {
        if (why.empty()) return false;
        reporter.error("the cached result of " + key + " stopped short: " + why);
        return true;
    };
    if (!json) {
        std::string why =
            for_each_output_piece(*result, [](OutputStream stream, std::string_view bytes) {
                if (stream == OutputStream::stdout_stream) print_to_stdout(bytes);
            });
        return stopped_short(why) ? 1 : 0;
    }
    // The output is written as it is decompressed, a chunk at a time: a stored output may
    // be far larger than the memory it was stored in.
    std::string head = JsonObject()
                           .string("key", key)
                           .boolean("cached", true)
                           .number("exit_code", result->exit_code)
                           .number("created_unix_ms", result->created_unix_ms)
                           .number("duration_ms", result->duration_ms)
                           .raw("ttl_left_ms", ms_or_null(stored->ttl_left))
                           .string("host", result->host)
                           .str();
    head.pop_back();  // the closing brace: "output" comes last
    print_to_stdout(head + ",\"output\":[");
    JsonChunkWriter chunks;
    std::string why = for_each_output_piece(
        *result, [&](OutputStream stream, std::string_view bytes) { chunks.add(stream, bytes); });
    chunks.flush();
    print_to_stdout("]}\n");
    return stopped_short(why) ? 1 : 0;
}

int drop_cached_result(Backend& backend, const std::string& key) {
    bool dropped = backend.drop_stored_result();
    print_to_stdout((dropped ? "dropped the cached result of " : "nothing was cached for ") + key +
                    "\n");
    return 0;
}

}  // namespace lockrun
