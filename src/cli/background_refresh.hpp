#pragma once
// --stale's background refresh (SPEC §1): lockrun started again, detached from the caller
// that replayed a stale result, to run the command under the lock (--refresh, no wait) and
// store what it prints. At most one runs at a time per key: the lock sees to that.

#include <cstdint>
#include <optional>
#include <string>

#include "config/config_file.hpp"

namespace lockrun {

// Set in the environment of the refresh it starts: the fence of the stale result. The
// command does not inherit it.
inline constexpr const char* k_background_refresh_variable = "LOCKRUN_BACKGROUND_REFRESH";

// Starts it: the same executable and arguments, in a session of its own (a Ctrl-C or a
// hang-up of the caller's terminal is not for it), with standard input, output and error on
// /dev/null (a CI log or a $(...) that reads the caller's output must not wait for it); not
// waited for. The text of a warning when it cannot be started.
std::optional<std::string> start_background_refresh(const char* const* argv,
                                                    std::uint64_t stale_fence);

// The fence of the stale result when this process is such a refresh; nullopt otherwise.
std::optional<std::uint64_t> background_refresh_of(const EnvironmentLookup& environment);

// Where a background refresh reports a failure, having no terminal: syslog (facility user,
// tag lockrun), so that the journal or /var/log/syslog has it.
void log_from_background_refresh(const std::string& message);

}  // namespace lockrun
