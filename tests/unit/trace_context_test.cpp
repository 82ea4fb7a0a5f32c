#include "util/trace_context.hpp"

#include <gtest/gtest.h>

namespace lockrun {
namespace {

constexpr const char* k_valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceParent, ReadsTheTraceAndTheCallersSpan) {
    auto context = parse_traceparent(k_valid);
    ASSERT_TRUE(context);
    EXPECT_EQ(context->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(context->span_id, "00f067aa0ba902b7");
}

TEST(TraceParent, ALaterVersionMayAppendFields) {
    auto context =
        parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-next");
    ASSERT_TRUE(context);
    EXPECT_EQ(context->span_id, "00f067aa0ba902b7");
}

TEST(TraceParent, IgnoresWhatTheSpecificationSaysToIgnore) {
    for (const char* bad : {
             "", "garbage",
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // short
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 with more
             "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // no '-' before more
             "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace
             "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span
             "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
             "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",    // flags
         }) {
        EXPECT_FALSE(parse_traceparent(bad)) << bad;
    }
}

}  // namespace
}  // namespace lockrun
