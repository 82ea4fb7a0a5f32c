#pragma once
// Every setting of one invocation, converted and checked (config/setting.cpp says how
// each value lands here). The run's own settings are held as core's SingleFlightSettings,
// so that nothing copies them field by field.

#include <string>
#include <utility>
#include <vector>

#include "core/single_flight.hpp"

namespace lockrun {

enum class LogFormat { text, json };

// --metrics-label: NAME=VALUE pairs in the order given, checked as Prometheus label names;
// `key` alone asks for the run's key as a label (SPEC §2: only if asked).
struct MetricsLabels {
    std::vector<std::pair<std::string, std::string>> pairs;
    bool with_key = false;
};

// The run's inputs that --key-file, --key-env and --key-cwd add to its key (SPEC §1).
struct KeyInputs {
    std::vector<std::string> files;      // in the order given
    std::vector<std::string> variables;  // names, in the order given
    bool working_directory = false;
    bool empty() const { return files.empty() && variables.empty() && !working_directory; }
};

// Every field but run.command's environment, run.token and run.me is written from the
// settings table, so a run gets the table's defaults, written there only.
struct Options {
    SingleFlightSettings run;  // for the subcommands, run.key is the KEY they name
    bool key_from_command = false;
    KeyInputs key_inputs;
    bool no_holder_command = false;     // the holder record names the program only
    bool files_preserve_owner = false;  // --files are extracted with their archived owners
    enum class BackendKind { automatic, local, redis };
    BackendKind backend = BackendKind::automatic;  // automatic: redis if a URL is set
    std::string state_dir;                         // empty: default_state_dir()
    std::string redis_url;
    bool redis_url_from_flag = false;  // a password in it shows in ps: warn
    std::string redis_password_file;
    std::string cache_key_file;          // --cache-key-file: the HMAC key of stored records
    std::string sentinel_password_file;  // redis+sentinel://: the Sentinels' password
    std::string tls_ca_file;
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_server_name;
    Millis connect_timeout{};
    std::string prefix;
    int min_replicas = 0;  // Redis WAIT after acquiring and storing; 0: none
    int verbosity = 0;     // -1 quiet, 0 warnings, 1 info, 2 debug
    LogFormat log_format = LogFormat::text;
    std::string metrics_file;
    MetricsLabels metrics_labels;
};

}  // namespace lockrun
