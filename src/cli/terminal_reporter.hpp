#pragma once
// The Reporter on the user's terminal: log lines through spdlog on stderr ("lockrun: ..."
// as text, or one JSON object a line), at the level -q/-v chose; replayed output on our
// stdout and stderr; and while waiting on a terminal, one status line redrawn in place.

#include <memory>

#include <spdlog/logger.h>

#include "config/options.hpp"
#include "core/reporter.hpp"

namespace lockrun {

class TerminalReporter : public Reporter {
public:
    // verbosity: -1 errors only, 0 warnings, 1 info, 2 debug.
    TerminalReporter(int verbosity, LogFormat format);

    void error(const std::string& message) { logger_->error(shaped(message)); }
    void warn(const std::string& message) override { logger_->warn(shaped(message)); }
    // At the warning level, which -q hides, without calling it a warning.
    void notice(const std::string& message) override { logger_->warn(shaped(message)); }
    void info(const std::string& message) override { logger_->info(shaped(message)); }
    void debug(const std::string& message) override { logger_->debug(shaped(message)); }
    void replay(const std::vector<OutputChunk>& output) override;

    bool shows_progress() const override { return progress_; }
    void waiting(const std::string& key, const LockHeld& held, Millis wait_left) override;
    void waiting_ended() override;

private:
    std::string shaped(const std::string& message) const;
    std::shared_ptr<spdlog::logger> logger_;
    LogFormat format_;
    bool progress_;
};

}  // namespace lockrun
