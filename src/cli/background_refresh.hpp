#pragma once
// --stale's background refresh (SPEC §1): lockrun started again, detached from the caller
// that replayed a stale result, to run the command under the lock (--refresh, no wait) and
// store what it prints. At most one runs at a time per key: the lock sees to that.

#include <cstdint>
#include <optional>
#include <string>

#include "config/config_file.hpp"

namespace lockrun {

// Set in the environment of the refresh it starts: "FENCE:KEY", the stale result's fence
// and the key it is stored under (the refresh does not work the key out again: its inputs
// may have changed, or been a pipe). The command does not inherit it.
inline constexpr const char* k_background_refresh_variable = "LOCKRUN_BACKGROUND_REFRESH";

struct BackgroundRefresh {
    std::uint64_t stale_fence = 0;
    std::string key;
};

// Starts it: the same executable and arguments, in a session of its own (a Ctrl-C or a
// hang-up of the caller's terminal is not for it), with standard input, output and error on
// /dev/null and no other descriptor of the caller's (a CI log or a $(...) that reads the
// caller's output must not wait for it, nor an outer flock(1) stay held); not waited for.
// To be called with the signal mask and dispositions lockrun started with, which it passes
// on. The text of a warning when it cannot be started.
std::optional<std::string> start_background_refresh(const char* const* argv,
                                                    const BackgroundRefresh& refresh);

// When this process is such a refresh, what it refreshes; nullopt otherwise.
std::optional<BackgroundRefresh> background_refresh_of(const EnvironmentLookup& environment);

// Where a background refresh reports a failure, having no terminal: syslog (facility user,
// tag lockrun), so that the journal or /var/log/syslog has it.
void log_from_background_refresh(const std::string& message);

}  // namespace lockrun
