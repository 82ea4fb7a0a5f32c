#include "backend/redis/tls_context.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace lockrun {
namespace {

// The system's CAs: no file of the test's own needed.
const TlsSettings k_system_cas{};

TEST(SharedTlsContext, CopiesShareTheOneContextTheFirstUseMade) {
    // A backend's connection settings are copied for each connection: every copy must load
    // the CA bundle no more than once between them.
    SharedTlsContext original;
    SharedTlsContext copy = original;
    std::shared_ptr<const TlsContext> first = copy.get(k_system_cas, "rediss://h:6379");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(original.get(k_system_cas, "rediss://h:6379"), first);
    EXPECT_EQ(copy.get(k_system_cas, "rediss://h:6379"), first);
}

TEST(SharedTlsContext, IndependentSettingsMakeTheirOwn) {
    SharedTlsContext one, other;
    EXPECT_NE(one.get(k_system_cas, "rediss://h:6379"), other.get(k_system_cas, "rediss://h:6379"));
}

TEST(SharedTlsContext, AContextThatCannotBeMadeIsAConfigErrorEachTime) {
    SharedTlsContext shared;
    TlsSettings missing{"/nonexistent/ca.crt", "", "", ""};
    EXPECT_THROW(shared.get(missing, "rediss://h:6379"), ConfigError);
    EXPECT_THROW(shared.get(missing, "rediss://h:6379"), ConfigError);
}

}  // namespace
}  // namespace lockrun
