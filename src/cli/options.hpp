#pragma once
// Everything the command line (and the LOCKRUN_* environment) says, parsed and checked,
// before anything runs.

#include <optional>
#include <string>

#include "config/config_file.hpp"
#include "config/options.hpp"
#include "config/setting.hpp"

namespace lockrun {

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
    std::string text;  // the help or version text to print
    Options options;
    bool json = false;                       // status, list, cache show, config, doctor
    bool force = false;                      // release
    SettingValues settings;                  // every setting with its origin
    std::optional<std::string> config_file;  // the file that was read, if any
    std::vector<std::string> warnings;       // for the run's reporter, once it exists
};

// Throws UsageError for a bad flag, ConfigError for a bad environment variable or config
// file (each naming where the value came from), with one line.
Invocation parse_command_line(int argc, const char* const* argv);
Invocation parse_command_line(int argc, const char* const* argv,
                              const EnvironmentLookup& environment);

// For an error that parse_command_line throws, before any setting is read: the log format
// that argv or LOCKRUN_LOG_FORMAT asks for, and whether argv asks a subcommand for a JSON
// document (that document then carries the error). Either errs towards text.
LogFormat log_format_before_parsing(int argc, const char* const* argv,
                                    const EnvironmentLookup& environment);
bool json_document_before_parsing(int argc, const char* const* argv);

// Converts and checks every setting into `options`; the error names the flag, variable or
// file line of a bad value (UsageError for a flag, ConfigError otherwise).
void apply_settings(const SettingValues& settings, Options& options);

}  // namespace lockrun
