#include "cli/metrics_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <variant>

#include "core/errors.hpp"
#include "util/atomic_file.hpp"
#include "util/unique_fd.hpp"
#include "util/utf8.hpp"

namespace lockrun {
namespace {

using Outcome = RunSummary::Outcome;
constexpr Outcome k_outcomes[] = {Outcome::ran,  Outcome::cache_hit,     Outcome::conflict,
                                  Outcome::lost, Outcome::backend_error, Outcome::interrupted,
                                  Outcome::error};

// How long a run waits for another that is writing into the same directory; that takes
// milliseconds, so only a stopped process holds it longer.
constexpr auto k_directory_lock_wait = std::chrono::seconds(2);

std::string directory_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// The file's name without .prom, as a label value: UTF-8 (Prometheus refuses a whole file
// for one bad label value), a byte of a name that is not shown as '?'.
std::string stem_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name.ends_with(".prom") && name.size() > 5) name.resize(name.size() - 5);
    if (is_valid_utf8(name)) return name;
    for (char& c : name) {
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
    return name;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, const PrometheusLabels& labels,
            const std::string& value) {
    out += fmt::format("{}{} {}\n", name, prometheus_labels(labels), value);
}

PrometheusLabels with(PrometheusLabels labels, std::string name, std::string value) {
    labels.emplace_back(std::move(name), std::move(value));
    return labels;
}

std::string label_of(const PrometheusSample& s, std::string_view name) {
    for (const auto& [label, value] : s.labels) {
        if (label == name) return value;
    }
    return "";
}

// An exclusive flock(2) on the directory, which every lockrun writing a metrics file
// there takes: without it two runs that end together would each add one to the counts
// they read, and one of the two would be lost. Returns the lock, or why there is none (the
// wait ran out, or the directory or its file system does not lock).
std::variant<UniqueFd, std::string> lock_directory(const std::string& directory) {
    UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return std::string("cannot open its directory: ") + std::strerror(errno);
    auto give_up = std::chrono::steady_clock::now() + k_directory_lock_wait;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return std::string("cannot lock its directory: ") + std::strerror(errno);
        }
        if (std::chrono::steady_clock::now() >= give_up) {
            return std::string("another process held its directory's lock for 2s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return fd;
}

// Far more than any file lockrun writes (a few KiB): a bigger one is not lockrun's.
constexpr std::size_t k_previous_file_limit = 1 << 20;

struct PreviousFile {
    enum class State { none, read, too_big } state = State::none;
    std::string text;
};

// The previous file's text. Throws std::system_error when there is one that cannot be read.
PreviousFile read_previous(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        if (errno == ENOENT) return {};
        throw std::system_error(errno, std::generic_category());
    }
    PreviousFile previous{PreviousFile::State::read, {}};
    char buffer[16384];
    for (;;) {
        ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw std::system_error(errno, std::generic_category());
        if (got == 0) return previous;
        previous.text.append(buffer, static_cast<std::size_t>(got));
        if (previous.text.size() > k_previous_file_limit) return {PreviousFile::State::too_big, {}};
    }
}

// A metrics file that is a symlink is the file it names: read, locked and replaced there,
// so that the link stays a link.
std::string resolved(const std::string& path) {
    std::error_code error;
    if (!std::filesystem::is_symlink(path, error)) return path;
    std::filesystem::path target = std::filesystem::weakly_canonical(path, error);
    return error ? path : target.string();
}

}  // namespace

PrometheusLabels series_labels(const std::string& path, const MetricsLabels& labels,
                               const std::string& key) {
    PrometheusLabels series;
    bool names_job = false;
    for (const auto& [name, value] : labels.pairs) names_job = names_job || name == "job";
    if (!names_job) series.emplace_back("job", stem_of(path));
    series.insert(series.end(), labels.pairs.begin(), labels.pairs.end());
    if (labels.with_key) series.emplace_back("key", key);
    return series;
}

std::optional<CarriedMetrics> carried_from(std::string_view previous_file) {
    auto samples = parse_prometheus_samples(previous_file);
    if (!samples) return std::nullopt;
    CarriedMetrics carried;
    // What lockrun writes is a whole number or a time, never negative, infinite or beyond
    // what a double holds exactly: anything else is not its file.
    constexpr double k_exact_limit = 9007199254740992.0;  // 2^53
    for (const PrometheusSample& s : *samples) {
        bool carried_over = s.name == "lockrun_last_success_timestamp_seconds" ||
                            s.name == "lockrun_runs_total" || s.name == "lockrun_fencing_token";
        if (carried_over && !(s.value >= 0 && s.value <= k_exact_limit)) return std::nullopt;
        if (s.name == "lockrun_last_success_timestamp_seconds") {
            carried.last_success_seconds = s.value;
        } else if (s.name == "lockrun_runs_total") {
            carried.runs_by_outcome[label_of(s, "outcome")] = static_cast<std::uint64_t>(s.value);
        } else if (s.name == "lockrun_fencing_token") {
            carried.fence = static_cast<std::uint64_t>(s.value);
        }
    }
    return carried;
}

CarriedMetrics after_run(CarriedMetrics carried, const RunSummary& summary, double now_seconds) {
    if (summary.outcome != Outcome::none) {
        ++carried.runs_by_outcome[std::string(outcome_name(summary.outcome))];
    }
    if (summary.command_succeeded) carried.last_success_seconds = now_seconds;
    if (summary.fence) carried.fence = *summary.fence;
    return carried;
}

std::string render_metrics(const PrometheusLabels& labels, const RunSummary& summary,
                           const CarriedMetrics& carried, double now_seconds) {
    std::string out;
    // The families that 0.1 wrote keep its HELP texts word for word: the node exporter drops
    // a family whose HELP differs between the files of its directory.
    family(out, "lockrun_outcome", "gauge", "What the last run of the key did: 1 for its outcome.");
    for (Outcome outcome : k_outcomes) {
        sample(out, "lockrun_outcome", with(labels, "outcome", std::string(outcome_name(outcome))),
               summary.outcome == outcome ? "1" : "0");
    }
    family(out, "lockrun_runs_total", "counter",
           "Runs that wrote this file, by how they ended (carried over from its last version).");
    for (Outcome outcome : k_outcomes) {
        std::string name(outcome_name(outcome));
        auto count = carried.runs_by_outcome.find(name);
        sample(out, "lockrun_runs_total", with(labels, "outcome", name),
               std::to_string(count == carried.runs_by_outcome.end() ? 0 : count->second));
    }
    family(out, "lockrun_last_success_timestamp_seconds", "gauge",
           "When a run last ran or replayed the command with exit status 0 (unix time; 0: "
           "never).");
    sample(out, "lockrun_last_success_timestamp_seconds", labels,
           prometheus_number(carried.last_success_seconds));
    family(out, "lockrun_timestamp_seconds", "gauge", "When the run ended (unix time).");
    sample(out, "lockrun_timestamp_seconds", labels, prometheus_number(now_seconds));
    family(out, "lockrun_exit_code", "gauge", "lockrun's exit status.");
    sample(out, "lockrun_exit_code", labels, std::to_string(summary.exit_code.value_or(0)));
    family(out, "lockrun_wait_seconds", "gauge", "Time spent getting the lock or a result.");
    sample(out, "lockrun_wait_seconds", labels,
           prometheus_number(static_cast<double>(summary.waited.count()) / 1000));
    family(out, "lockrun_run_seconds", "gauge", "How long the command ran (0 if it did not).");
    sample(out, "lockrun_run_seconds", labels,
           prometheus_number(static_cast<double>(summary.ran.count()) / 1000));
    family(out, "lockrun_fencing_token", "gauge",
           "The fencing token of the run (or of the holder).");
    sample(out, "lockrun_fencing_token", labels, std::to_string(carried.fence));
    return out;
}

std::optional<std::string> update_metrics_file(const std::string& given_path,
                                               const PrometheusLabels& labels,
                                               const RunSummary& summary, double now_seconds) {
    const std::string path = resolved(given_path);
    auto directory_lock = lock_directory(directory_of(path));
    std::optional<std::string> warning;
    if (const auto* why = std::get_if<std::string>(&directory_lock)) {
        warning = "wrote --metrics-file " + given_path + " without its lock (" + *why +
                  "): a run that ended at the same moment may have lost a count";
    }
    CarriedMetrics carried;
    const std::string start_again =
        "; replaced it: the last success and the run counts start again";
    PreviousFile previous;
    try {
        previous = read_previous(path);
    } catch (const std::system_error& e) {
        // Perhaps for a moment (EMFILE, EIO): counting from zero would fire the alerts of a
        // job that is fine, so this run's figures are not written.
        throw ConfigError("cannot read --metrics-file " + given_path + " (" + e.code().message() +
                          "), so it was not updated");
    }
    if (previous.state == PreviousFile::State::read) {
        if (auto read = carried_from(previous.text)) {
            carried = std::move(*read);
        } else {
            warning = "--metrics-file " + given_path + " is not a metrics file lockrun can read" +
                      start_again;
        }
    } else if (previous.state == PreviousFile::State::too_big) {
        warning = "--metrics-file " + given_path + " is over 1 MiB, not a file lockrun wrote" +
                  start_again;
    }
    std::string contents =
        render_metrics(labels, summary, after_run(carried, summary, now_seconds), now_seconds);
    try {
        replace_file(AT_FDCWD, path, contents, 0644);
    } catch (const std::system_error& e) {
        throw ConfigError("cannot write --metrics-file " + given_path + ": " + e.code().message());
    }
    return warning;
}

}  // namespace lockrun
