#pragma once
// --metrics-file: Prometheus metrics in the text exposition format, for the node exporter's
// textfile collector (SPEC §2). Each run rewrites the file whole (a temporary file renamed
// into place, so that a scrape never sees half of it) with its own figures, and carries
// over from the previous version what a batch job is alerted on: when it last succeeded,
// and how many runs ended each way.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cli/prometheus_text.hpp"
#include "cli/run_summary.hpp"
#include "config/options.hpp"

namespace lockrun {

// What a metrics file carries from one run to the next.
struct CarriedMetrics {
    double last_success_seconds = 0;  // unix time; 0: never
    std::map<std::string, std::uint64_t, std::less<>> runs_by_outcome;
    std::uint64_t fence = 0;  // the last fencing token seen, kept through a cache hit
};

// The labels of every series: job=<the file's name without .prom> unless `labels` names a
// job, the given ones in their order, and key=KEY when asked.
PrometheusLabels series_labels(const std::string& path, const MetricsLabels& labels,
                               const std::string& key);

// What a previous file says; nullopt when it is not one lockrun can read.
std::optional<CarriedMetrics> carried_from(std::string_view previous_file);

// The carried figures after this run.
CarriedMetrics after_run(CarriedMetrics carried, const RunSummary& summary, double now_seconds);

// The whole file: every series in every version of it, whatever the run did.
std::string render_metrics(const PrometheusLabels& labels, const RunSummary& summary,
                           const CarriedMetrics& carried, double now_seconds);

// Reads the previous file, adds this run, and replaces it, serialised with other lockrun
// runs that write into the same directory. Returns a warning to log (a previous file that
// could not be read and was replaced); throws ConfigError naming the path when it cannot
// write.
std::optional<std::string> update_metrics_file(const std::string& path,
                                               const PrometheusLabels& labels,
                                               const RunSummary& summary, double now_seconds);

}  // namespace lockrun
