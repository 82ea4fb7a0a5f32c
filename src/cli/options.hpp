#pragma once
// Everything the command line (and the LOCKRUN_* environment) says, parsed and checked,
// before anything runs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/terminal_reporter.hpp"
#include "config/config_file.hpp"
#include "config/setting.hpp"
#include "core/command_runner.hpp"
#include "util/duration.hpp"

namespace lockrun {

struct Options {
    std::string key;
    bool key_from_command = false;
    bool no_holder_command = false;    // the holder record names the program only
    std::vector<std::string> command;  // argv, or {"/bin/sh", "-c", STR}
    Millis lease{30'000};
    Millis wait{0};
    int conflict_exit_code = 75;
    bool no_cache = false;
    bool refresh = false;
    bool cache_failures = false;
    bool cache_stderr = true;
    Millis cache_ttl{300'000};
    std::uint64_t cache_max_bytes = 16 * 1024 * 1024;
    OnLockLost on_lock_lost = OnLockLost::term;
    Millis kill_after{10'000};
    enum class BackendKind { automatic, local, redis };
    BackendKind backend = BackendKind::automatic;  // automatic: redis if a URL is set
    std::string state_dir;                         // empty: default_state_dir()
    std::string redis_url;
    bool redis_url_from_flag = false;  // a password in it shows in ps: warn
    std::string redis_password_file;
    std::string tls_ca_file;
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_server_name;
    enum class OnBackendError { fail, run };
    OnBackendError on_backend_error = OnBackendError::fail;
    Millis connect_timeout{2'000};
    Millis io_timeout{2'000};
    std::string prefix = "lockrun:";
    int verbosity = 0;  // -1 quiet, 0 warnings, 1 info, 2 debug
    LogFormat log_format = LogFormat::text;
    std::string metrics_file;
};

// What the command line asks for.
struct Invocation {
    enum class Action {
        run,
        status,
        list,
        release,
        cache_show,
        cache_drop,
        config,
        doctor,
        help,
        version
    };
    Action action = Action::run;
    std::string text;        // the help or version text to print
    Options options;         // for the subcommands, options.key is the KEY they name
    bool json = false;       // status, cache show
    bool force = false;      // release
    SettingValues settings;  // every setting with its origin
    std::optional<std::string> config_file;  // the file that was read, if any
};

// Throws UsageError for a bad flag, ConfigError for a bad environment variable or config
// file (each naming where the value came from), with one line.
Invocation parse_command_line(int argc, const char* const* argv);
Invocation parse_command_line(int argc, const char* const* argv,
                              const EnvironmentLookup& environment);

// Converts and checks every setting into `options`; the error names the flag, variable or
// file line of a bad value (UsageError for a flag, ConfigError otherwise).
void apply_settings(const SettingValues& settings, Options& options);

}  // namespace lockrun
