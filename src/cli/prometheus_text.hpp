#pragma once
// The pieces of the Prometheus text exposition format (version 0.0.4) that --metrics-file
// writes and reads back: label values escaped, numbers in their shortest exact form, and a
// reader of the samples of a file (lockrun's own previous one).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lockrun {

using PrometheusLabels = std::vector<std::pair<std::string, std::string>>;

struct PrometheusSample {
    std::string name;
    PrometheusLabels labels;
    double value = 0;
};

// A label value with backslash, double quote and newline escaped.
std::string prometheus_label_value(std::string_view text);

// `{a="x",b="y"}`; "" when there are none.
std::string prometheus_labels(const PrometheusLabels& labels);

// The shortest text that reads back as exactly `value` (0.007, not 0.0070000000000000001).
std::string prometheus_number(double value);

// Every sample of `text`, comments skipped; nullopt when a line is not a sample, a comment
// or blank (the file is not one lockrun can read).
std::optional<std::vector<PrometheusSample>> parse_prometheus_samples(std::string_view text);

}  // namespace lockrun
