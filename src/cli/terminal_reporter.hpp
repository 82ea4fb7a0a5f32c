#pragma once
// The Reporter on the user's terminal: log lines through spdlog on stderr, prefixed
// "lockrun:", at the level -q/-v chose; replayed output on our stdout and stderr.

#include <memory>

#include <spdlog/logger.h>

#include "core/reporter.hpp"

namespace lockrun {

class TerminalReporter : public Reporter {
public:
    // verbosity: -1 errors only, 0 warnings, 1 info, 2 debug.
    explicit TerminalReporter(int verbosity);

    void warn(const std::string& message) override { logger_->warn(message); }
    void info(const std::string& message) override { logger_->info(message); }
    void debug(const std::string& message) override { logger_->debug(message); }
    void replay(const std::vector<OutputChunk>& output) override;

private:
    std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace lockrun
