#pragma once
// The Reporter on the user's terminal: log lines through spdlog on stderr ("lockrun: ..."
// as text, or one JSON object a line with the context's and the line's fields), at the
// level -q/-v chose; replayed output on our stdout and stderr; and while waiting on a
// terminal, one status line redrawn in place.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "config/options.hpp"
#include "core/reporter.hpp"

namespace lockrun {

class TerminalReporter : public Reporter {
public:
    // verbosity: -1 errors only, 0 warnings, 1 info, 2 debug.
    TerminalReporter(int verbosity, LogFormat format);

    void error(const std::string& message, const LogFields& fields = {}) {
        log(spdlog::level::err, "error", message, fields);
    }
    void warn(const std::string& message, const LogFields& fields = {}) override {
        log(spdlog::level::warn, "warning", message, fields);
    }
    // At the warning level, which -q hides, without calling it a warning.
    void notice(const std::string& message, const LogFields& fields = {}) override {
        log(spdlog::level::warn, "notice", message, fields);
    }
    void info(const std::string& message, const LogFields& fields = {}) override {
        log(spdlog::level::info, "info", message, fields);
    }
    void debug(const std::string& message, const LogFields& fields = {}) override {
        log(spdlog::level::debug, "debug", message, fields);
    }
    void add_context(std::string_view name, LogValue value) override;
    std::string replay(const CachedResult& result) override;
    void print_live(OutputStream stream, std::string_view bytes) override;
    // Why our stdout or stderr refused replayed or followed output ("stdout: No space left
    // on device"), if it did; a reader that went away (EPIPE) is not counted.
    const std::optional<std::string>& output_failed() const { return output_failed_; }

    bool shows_progress() const override { return progress_; }
    void waiting(const std::string& key, const LockHeld& held, Millis wait_left) override;
    void waiting_ended() override;

private:
    void print_output(OutputStream stream, std::string_view bytes);
    // Ends the line that replayed or followed output left open (its last byte not a
    // newline) where a log line is about to go: on stderr, or on stdout when that is the
    // same file or terminal as stderr. A log line glued to a command's last words read as
    // part of them, and broke a JSON log line.
    void end_open_output_line();
    void log(spdlog::level::level_enum level, std::string_view level_name,
             const std::string& message, const LogFields& fields);
    std::shared_ptr<spdlog::logger> logger_;
    LogFormat format_;
    bool progress_;
    std::vector<std::pair<std::string, LogValue>> context_;  // in the order added
    std::optional<std::string> output_failed_;
    bool stdout_line_open_ = false;
    bool stderr_line_open_ = false;
};

}  // namespace lockrun
