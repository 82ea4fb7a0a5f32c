#include "cli/metrics_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/errors.hpp"
#include "util/random_token.hpp"

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
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
    out += name + "{" + labels + "} " + number(value) + "\n";
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
        out += "lockrun_outcome{" + key_label + ",outcome=\"" + std::string(outcome_name(outcome)) +
               "\"} " + (summary.outcome == outcome ? "1" : "0") + "\n";
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
    std::string temporary = path + ".tmp." + random_token();
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw ConfigError("cannot write --metrics-file " + path + ": " + std::strerror(errno));
    }
    std::string_view rest = contents;
    bool ok = true;
    while (ok && !rest.empty()) {
        ssize_t put = ::write(fd, rest.data(), rest.size());
        if (put < 0 && errno == EINTR) continue;
        ok = put > 0;
        if (ok) rest.remove_prefix(static_cast<size_t>(put));
    }
    int saved_errno = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
        saved_errno = ok ? errno : saved_errno;
        ::unlink(temporary.c_str());
        throw ConfigError("cannot write --metrics-file " + path + ": " +
                          std::strerror(saved_errno));
    }
}

}  // namespace lockrun
