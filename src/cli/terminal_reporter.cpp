#include "cli/terminal_reporter.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <cerrno>

namespace lockrun {
namespace {

// Writes everything, or stops quietly when the reader has gone (EPIPE): replaying to a
// closed pipe is not an error of ours.
void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t put = ::write(fd, bytes.data(), bytes.size());
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return;
        bytes.remove_prefix(static_cast<size_t>(put));
    }
}

spdlog::level::level_enum level_for(int verbosity) {
    if (verbosity < 0) return spdlog::level::err;
    if (verbosity == 0) return spdlog::level::warn;
    if (verbosity == 1) return spdlog::level::info;
    return spdlog::level::debug;
}

}  // namespace

TerminalReporter::TerminalReporter(int verbosity)
    : logger_(std::make_shared<spdlog::logger>(
          "lockrun", std::make_shared<spdlog::sinks::stderr_sink_st>())) {
    logger_->set_pattern("lockrun: %v");
    logger_->set_level(level_for(verbosity));
    logger_->flush_on(spdlog::level::trace);
}

void TerminalReporter::replay(const std::vector<OutputChunk>& output) {
    for (const OutputChunk& chunk : output) {
        write_all(chunk.stream == OutputStream::stdout_stream ? STDOUT_FILENO : STDERR_FILENO,
                  chunk.bytes);
    }
}

}  // namespace lockrun
