#pragma once
// Everything the command line (and the LOCKRUN_* environment) says, parsed and checked,
// before anything runs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/command_runner.hpp"
#include "util/duration.hpp"

namespace lockrun {

struct Options {
    std::string key;
    bool key_from_command = false;
    std::vector<std::string> command;  // argv, or {"/bin/sh", "-c", STR}
    Millis lease{30'000};
    Millis wait{0};
    int conflict_exit_code = 75;
    bool no_cache = false;
    bool refresh = false;
    bool cache_failures = false;
    bool cache_stderr = false;
    Millis cache_ttl{300'000};
    std::uint64_t cache_max_bytes = 16 * 1024 * 1024;
    OnLockLost on_lock_lost = OnLockLost::term;
    Millis kill_after{10'000};
    enum class BackendKind { automatic, local, redis };
    BackendKind backend = BackendKind::automatic;  // automatic: redis if a URL is set
    std::string state_dir;                         // empty: default_state_dir()
    std::string redis_url;
    Millis connect_timeout{2'000};
    Millis io_timeout{2'000};
    std::string prefix = "lockrun:";
    int verbosity = 0;  // -1 quiet, 0 warnings, 1 info, 2 debug
};

// What the command line asks for.
struct Invocation {
    enum class Action { run, status, release, cache_show, cache_drop, help, version };
    Action action = Action::run;
    std::string text;  // the help or version text to print
    Options options;   // for the subcommands, options.key is the KEY they name
    bool json = false;   // status, cache show
    bool force = false;  // release
};

// Throws UsageError (or ConfigError for a malformed URL) with one line.
Invocation parse_command_line(int argc, const char* const* argv);

}  // namespace lockrun
