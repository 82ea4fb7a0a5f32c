#include "cli/terminal_reporter.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "util/columns.hpp"
#include "util/json.hpp"
#include "util/one_line.hpp"
#include "util/wall_clock.hpp"
#include "util/write_all.hpp"

namespace lockrun {
namespace {

spdlog::level::level_enum level_for(int verbosity) {
    if (verbosity < 0) return spdlog::level::err;
    if (verbosity == 0) return spdlog::level::warn;
    if (verbosity == 1) return spdlog::level::info;
    return spdlog::level::debug;
}

// The width of the terminal on stderr; 80 when it does not say.
std::size_t terminal_columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 80;
}

std::string seconds(Millis duration) {
    return format_duration(std::chrono::ceil<std::chrono::seconds>(duration));
}

}  // namespace

TerminalReporter::TerminalReporter(int verbosity, LogFormat format)
    : logger_(std::make_shared<spdlog::logger>("lockrun",
                                               std::make_shared<spdlog::sinks::stderr_sink_st>())),
      format_(format),
      // The live line is for a person watching: a terminal, text logs, not -q.
      progress_(::isatty(STDERR_FILENO) == 1 && format == LogFormat::text && verbosity >= 0) {
    if (format == LogFormat::json) {
        // The rest of the object (level, msg, fields) is the message that log() makes.
        logger_->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ",%v})",
                             spdlog::pattern_time_type::utc);
    } else {
        logger_->set_pattern("lockrun: %v");
    }
    logger_->set_level(level_for(verbosity));
    logger_->flush_on(spdlog::level::trace);
}

void TerminalReporter::add_context(std::string_view name, LogValue value) {
    for (auto& [known, its_value] : context_) {
        if (known == name) {
            its_value = std::move(value);
            return;
        }
    }
    context_.emplace_back(std::string(name), std::move(value));
}

void TerminalReporter::log(spdlog::level::level_enum level, std::string_view level_name,
                           const std::string& message, const LogFields& fields) {
    if (!logger_->should_log(level)) return;
    end_open_output_line();
    if (format_ == LogFormat::text) {
        logger_->log(level, message);
        return;
    }
    JsonObject line;
    line.string("level", level_name).string("msg", message);
    auto add = [&line](std::string_view name, const LogValue& value) {
        if (const auto* text = std::get_if<std::string>(&value)) {
            line.string(name, *text);
        } else {
            line.number(name, std::get<std::int64_t>(value));
        }
    };
    // A line's own field says more than the context's of the same name (a replay's fence
    // is the replayed run's).
    for (const auto& [name, value] : context_) {
        bool overridden =
            std::ranges::any_of(fields, [&](const auto& f) { return f.first == name; });
        if (!overridden) add(name, value);
    }
    for (const auto& [name, value] : fields) add(name, value);
    std::string object = line.str();
    // The pattern writes the braces and the time; the message is the object's inside.
    logger_->log(level, std::string_view(object).substr(1, object.size() - 2));
}

std::string TerminalReporter::replay(const CachedResult& result) {
    return for_each_output_piece(result, [this](OutputStream stream, std::string_view bytes) {
        print_output(stream, bytes);
    });
}

void TerminalReporter::print_live(OutputStream stream, std::string_view bytes) {
    print_output(stream, bytes);
}

void TerminalReporter::print_output(OutputStream stream, std::string_view bytes) {
    const bool to_stdout = stream == OutputStream::stdout_stream;
    if (!bytes.empty()) (to_stdout ? stdout_line_open_ : stderr_line_open_) = bytes.back() != '\n';
    if (write_all(to_stdout ? STDOUT_FILENO : STDERR_FILENO, bytes)) return;
    // A reader that has gone (EPIPE) is not an error of ours: the rest is dropped.
    if (errno == EPIPE || output_failed_) return;
    output_failed_ = std::string(to_stdout ? "stdout" : "stderr") + ": " + std::strerror(errno);
}

void TerminalReporter::end_open_output_line() {
    auto same_file = [] {
        struct stat out {};
        struct stat err {};
        return ::fstat(STDOUT_FILENO, &out) == 0 && ::fstat(STDERR_FILENO, &err) == 0 &&
               out.st_dev == err.st_dev && out.st_ino == err.st_ino;
    };
    if (stderr_line_open_ || (stdout_line_open_ && same_file())) write_all(STDERR_FILENO, "\n");
    stdout_line_open_ = stderr_line_open_ = false;
}

void TerminalReporter::waiting(const std::string& key, const LockHeld& held, Millis wait_left) {
    std::string line =
        "lockrun: waiting for " + key + ": held by pid " + std::to_string(held.holder.pid);
    if (!held.holder.host.empty()) line += " on " + one_line(held.holder.host);
    if (held.holder.started_unix_ms > 0) {
        Millis held_for(unix_now_ms() - held.holder.started_unix_ms);
        line += " for " + seconds(std::max(Millis(0), held_for));
    }
    line += wait_left == k_infinite ? "; waiting without limit"
                                    : "; giving up in " + seconds(wait_left);
    // A line longer than the terminal wraps, and "\r" then redraws only its last row.
    write_all(STDERR_FILENO, "\r\033[K" + fit_to_columns(line, terminal_columns()));
}

void TerminalReporter::waiting_ended() {
    write_all(STDERR_FILENO, "\r\033[K");
}

}  // namespace lockrun
