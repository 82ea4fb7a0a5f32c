#pragma once
// --metrics-file: this run's metrics in the Prometheus text exposition format, for the
// node exporter's textfile collector; written to a temporary file and renamed into place so
// that a scrape never sees half a file.

#include <string>

#include "cli/run_summary.hpp"

namespace lockrun {

// The file's contents.
std::string render_metrics(const std::string& key, const RunSummary& summary,
                           double unix_time_seconds);

// Writes them atomically; throws ConfigError naming the path when it cannot.
void write_metrics_file(const std::string& path, const std::string& contents);

}  // namespace lockrun
