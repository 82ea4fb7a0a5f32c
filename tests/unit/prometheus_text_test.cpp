#include "cli/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace lockrun {
namespace {

TEST(PrometheusNumber, IsTheShortestTextThatReadsBackExactly) {
    EXPECT_EQ(prometheus_number(0.007), "0.007");
    EXPECT_EQ(prometheus_number(7.0 / 1000), "0.007");
    EXPECT_EQ(prometheus_number(0), "0");
    EXPECT_EQ(prometheus_number(3), "3");
    EXPECT_EQ(prometheus_number(1796581725.521), "1796581725.521");
    EXPECT_EQ(prometheus_number(1796581725521.0), "1796581725521");
    for (double value : {0.1, 1.0 / 3, 1796581725.521, 123456.789e10, 5e-324}) {
        std::string text = prometheus_number(value);
        EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
    }
}

TEST(PrometheusLabels, EscapeBackslashQuoteAndNewline) {
    EXPECT_EQ(prometheus_labels({}), "");
    EXPECT_EQ(prometheus_labels({{"job", "a\"b\\c\nd"}, {"team", "ops"}}),
              R"({job="a\"b\\c\nd",team="ops"})");
}

TEST(PrometheusSamples, ReadsWhatLockrunWritesAndWhatOthersMay) {
    auto samples = parse_prometheus_samples(
        "# HELP x Something.\n"
        "# TYPE x gauge\n"
        "x 1\n"
        "\n"
        "y{job=\"a\\\"b\\\\c\\nd\",outcome=\"ran\"} 0.25 1700000000000\n"
        "z{a=\"1\",} +Inf\n"
        "w_total{} 3e2");
    ASSERT_TRUE(samples);
    ASSERT_EQ(samples->size(), 4u);
    EXPECT_EQ((*samples)[0].name, "x");
    EXPECT_EQ((*samples)[0].value, 1);
    EXPECT_EQ((*samples)[1].name, "y");
    EXPECT_EQ((*samples)[1].labels, (PrometheusLabels{{"job", "a\"b\\c\nd"}, {"outcome", "ran"}}));
    EXPECT_EQ((*samples)[1].value, 0.25);
    EXPECT_TRUE(std::isinf((*samples)[2].value));
    EXPECT_EQ((*samples)[3].value, 300);
}

TEST(PrometheusSamples, AFileThatIsNotTheFormatIsNotRead) {
    for (const char* bad : {"x\n", "x{ 1\n", "x{a=1} 1\n", "x{a=\"1} 1\n", "x 1a\n",
                            "{a=\"1\"} 1\n", "x{a=\"\\q\"} 1\n", "x1\n", "x  \n"}) {
        EXPECT_FALSE(parse_prometheus_samples(bad)) << bad;
    }
}

TEST(PrometheusSamples, AValueIsADecimalNumberInRange) {
    for (const char* good : {"x 0\n", "x -1.5\n", "x 3e2\n", "x 5e-324\n", "x 1796581725.521\n"}) {
        EXPECT_TRUE(parse_prometheus_samples(good)) << good;
    }
    EXPECT_EQ((*parse_prometheus_samples("x 5e-324"))[0].value, 5e-324);
    for (const char* bad :
         {"x +1\n", "x 0x10\n", "x 1e999\n", "x 1e-999\n", "x 1.5.2\n", "x -\n"}) {
        EXPECT_FALSE(parse_prometheus_samples(bad)) << bad;
    }
}

TEST(PrometheusSamples, RoundTripsLabelsItWrote) {
    PrometheusLabels labels{{"job", "we\"ird\\key\n"}, {"team", "ops"}};
    auto samples = parse_prometheus_samples("m" + prometheus_labels(labels) + " " +
                                            prometheus_number(0.007) + "\n");
    ASSERT_TRUE(samples);
    ASSERT_EQ(samples->size(), 1u);
    EXPECT_EQ(samples->front().labels, labels);
    EXPECT_EQ(samples->front().value, 0.007);
}

}  // namespace
}  // namespace lockrun
