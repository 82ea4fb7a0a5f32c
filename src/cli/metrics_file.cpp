#include "cli/metrics_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <cstdio>
#include <system_error>

#include "core/errors.hpp"
#include "util/atomic_file.hpp"

namespace lockrun {
namespace {

// Label values escape backslash, double quote and newline (exposition format).
std::string label_value(const std::string& text) {
    std::string escaped;
    for (char c : text) {
        if (c == '\\') {
            escaped += "\\\\";
        } else if (c == '"') {
            escaped += "\\\"";
        } else if (c == '\n') {
            escaped += "\\n";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

std::string number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

void gauge(std::string& out, const std::string& name, const std::string& help,
           const std::string& labels, double value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0}{{{2}}} {3}\n", name, help, labels,
                       number(value));
}

}  // namespace

std::string render_metrics(const std::string& key, const RunSummary& summary,
                           double unix_time_seconds) {
    std::string key_label = "key=\"" + label_value(key) + "\"";
    std::string out;
    out += "# HELP lockrun_outcome What the last run of the key did: 1 for its outcome.\n";
    out += "# TYPE lockrun_outcome gauge\n";
    for (auto outcome :
         {RunSummary::Outcome::ran, RunSummary::Outcome::cache_hit, RunSummary::Outcome::conflict,
          RunSummary::Outcome::lost, RunSummary::Outcome::backend_error,
          RunSummary::Outcome::interrupted, RunSummary::Outcome::error}) {
        out += fmt::format("lockrun_outcome{{{},outcome=\"{}\"}} {}\n", key_label,
                           outcome_name(outcome), summary.outcome == outcome ? 1 : 0);
    }
    gauge(out, "lockrun_wait_seconds", "Time spent getting the lock or a result.", key_label,
          static_cast<double>(summary.waited.count()) / 1000.0);
    gauge(out, "lockrun_run_seconds", "How long the command ran (0 if it did not).", key_label,
          static_cast<double>(summary.ran.count()) / 1000.0);
    if (summary.exit_code) {
        gauge(out, "lockrun_exit_code", "lockrun's exit status.", key_label, *summary.exit_code);
    }
    if (summary.fence) {
        gauge(out, "lockrun_fencing_token", "The fencing token of the run (or of the holder).",
              key_label, static_cast<double>(*summary.fence));
    }
    gauge(out, "lockrun_timestamp_seconds", "When the run ended (unix time).", key_label,
          unix_time_seconds);
    return out;
}

void write_metrics_file(const std::string& path, const std::string& contents) {
    try {
        replace_file(AT_FDCWD, path, contents, 0644);
    } catch (const std::system_error& e) {
        throw ConfigError("cannot write --metrics-file " + path + ": " + e.code().message());
    }
}

}  // namespace lockrun
