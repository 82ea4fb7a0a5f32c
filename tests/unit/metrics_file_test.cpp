#include "cli/metrics_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lockrun {
namespace {

using Outcome = RunSummary::Outcome;
using namespace std::chrono_literals;

std::string golden_path(const std::string& name) {
    return std::string(LOCKRUN_TEST_GOLDEN_DIR) + "/" + name;
}

// The file's text; with LOCKRUN_UPDATE_GOLDEN=1, `actual` is written there first (to update
// the golden file on purpose, then review the diff).
std::string golden(const std::string& name, const std::string& actual) {
    if (const char* update = std::getenv("LOCKRUN_UPDATE_GOLDEN"); update && *update == '1') {
        std::ofstream(golden_path(name), std::ios::binary) << actual;
    }
    std::ifstream in(golden_path(name), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

RunSummary a_run(Outcome outcome, int exit_code) {
    RunSummary summary;
    summary.outcome = outcome;
    summary.waited = 7ms;
    summary.ran = 1250ms;
    summary.exit_code = exit_code;
    summary.fence = 1796581725518;
    summary.command_succeeded = outcome == Outcome::ran && exit_code == 0;
    return summary;
}

TEST(MetricsFile, HelpTypeAndEverySeriesAreFixed) {
    CarriedMetrics carried = after_run({}, a_run(Outcome::ran, 0), 1796581725.521);
    std::string text = render_metrics({{"job", "report"}, {"team", "ops"}}, a_run(Outcome::ran, 0),
                                      carried, 1796581725.521);
    EXPECT_EQ(text, golden("metrics.prom", text));
}

TEST(MetricsFile, CarriesTheLastSuccessAndTheCountsOver) {
    CarriedMetrics first = after_run({}, a_run(Outcome::ran, 0), 1000.5);
    std::string file = render_metrics({{"job", "j"}}, a_run(Outcome::ran, 0), first, 1000.5);
    auto read = carried_from(file);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->last_success_seconds, 1000.5);
    EXPECT_EQ(read->runs_by_outcome.at("ran"), 1u);
    EXPECT_EQ(read->runs_by_outcome.at("conflict"), 0u);
    EXPECT_EQ(read->fence, 1796581725518u);

    RunSummary failed = a_run(Outcome::ran, 3);
    CarriedMetrics second = after_run(*read, failed, 2000);
    EXPECT_EQ(second.last_success_seconds, 1000.5);  // a failure is not a success
    EXPECT_EQ(second.runs_by_outcome.at("ran"), 2u);

    RunSummary hit;
    hit.outcome = Outcome::cache_hit;
    hit.exit_code = 0;
    hit.command_succeeded = true;  // a replay of exit 0 is the job done
    CarriedMetrics third = after_run(second, hit, 3000);
    EXPECT_EQ(third.last_success_seconds, 3000);
    EXPECT_EQ(third.runs_by_outcome.at("cache_hit"), 1u);
    EXPECT_EQ(third.fence, 1796581725518u);  // a hit has no fence of its own: kept
}

TEST(MetricsFile, AFileItCannotReadIsNotCarried) {
    EXPECT_FALSE(carried_from("not { a metrics file\n"));
    EXPECT_FALSE(carried_from("lockrun_runs_total{outcome=\"ran\"} +Inf\n"));
    EXPECT_FALSE(carried_from("lockrun_runs_total{outcome=\"ran\"} 1e300\n"));
    EXPECT_FALSE(carried_from("lockrun_last_success_timestamp_seconds -5\n"));
    EXPECT_FALSE(carried_from("lockrun_fencing_token NaN\n"));
    auto empty = carried_from("");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->last_success_seconds, 0);
    EXPECT_TRUE(empty->runs_by_outcome.empty());
}

TEST(MetricsFile, LabelsDefaultToTheJobOfTheFileName) {
    EXPECT_EQ(series_labels("/var/lib/textfile/report.prom", {}, "report:2026-11-22"),
              (PrometheusLabels{{"job", "report"}}));
    EXPECT_EQ(series_labels("nightly", {}, "k"), (PrometheusLabels{{"job", "nightly"}}));
    MetricsLabels given{{{"team", "ops"}, {"job", "x"}}, true};
    EXPECT_EQ(series_labels("a/b.prom", given, "k:1"),
              (PrometheusLabels{{"team", "ops"}, {"job", "x"}, {"key", "k:1"}}));
}

}  // namespace
}  // namespace lockrun
