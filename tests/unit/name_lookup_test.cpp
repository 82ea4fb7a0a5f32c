#include "backend/redis/name_lookup.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

// The number of children of this process that have not been reaped: look_up_name must
// leave none behind, whatever the outcome.
int unreaped_children() {
    int count = 0;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) ++count;
    return count;
}

// An interruption the test can fire: a pipe with a byte in it.
class FiredInterrupt : public InterruptSource {
public:
    FiredInterrupt() {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        read_ = fds[0];
        write_ = fds[1];
        if (::write(write_, "x", 1) != 1) throw std::runtime_error("write");
    }
    ~FiredInterrupt() override {
        ::close(read_);
        ::close(write_);
    }
    int fd() const override { return read_; }
    void throw_if_interrupted() override { throw Interrupted(15); }

private:
    int read_ = -1;
    int write_ = -1;
};

// A name that no resolver is asked about: a label longer than DNS allows (63 bytes) fails
// in the resolver library itself, without a query, wherever the test runs.
std::string name_that_cannot_exist() {
    return std::string(70, 'a') + ".invalid";
}

bool hosts_file_names_localhost() {
    std::ifstream hosts("/etc/hosts");
    std::string line;
    while (std::getline(hosts, line)) {
        std::istringstream words(line.substr(0, line.find('#')));
        std::string word;
        words >> word;  // the address
        while (words >> word) {
            if (word == "localhost") return true;
        }
    }
    return false;
}

TEST(NameLookup, ANumericIPv4AddressIsConvertedWithoutAChild) {
    NameLookup lookup = look_up_name("127.0.0.1", 6390, Deadline::after(2s), nullptr);
    ASSERT_EQ(lookup.outcome, NameLookup::Outcome::resolved) << lookup.error;
    ASSERT_EQ(lookup.addresses.size(), 1u);
    const ResolvedAddress& a = lookup.addresses[0];
    EXPECT_EQ(a.family, AF_INET);
    EXPECT_EQ(a.socktype, SOCK_STREAM);
    ASSERT_EQ(a.length, sizeof(sockaddr_in));
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.sockaddr_ptr());
    EXPECT_EQ(ntohs(in->sin_port), 6390);
    EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
}

TEST(NameLookup, ANumericIPv6AddressIsConverted) {
    NameLookup lookup = look_up_name("::1", 6379, Deadline::after(2s), nullptr);
    ASSERT_EQ(lookup.outcome, NameLookup::Outcome::resolved) << lookup.error;
    ASSERT_EQ(lookup.addresses.size(), 1u);
    EXPECT_EQ(lookup.addresses[0].family, AF_INET6);
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(lookup.addresses[0].sockaddr_ptr());
    EXPECT_EQ(ntohs(in6->sin6_port), 6379);
}

TEST(NameLookup, ANumericAddressNeedsNoTimeLeft) {
    // No child, no wait: even a passed deadline converts it.
    NameLookup lookup = look_up_name("127.0.0.1", 1, Deadline::after(0ms), nullptr);
    EXPECT_EQ(lookup.outcome, NameLookup::Outcome::resolved);
}

TEST(NameLookup, ANumericAddressIsNotInterrupted) {
    FiredInterrupt interrupt;
    NameLookup lookup = look_up_name("127.0.0.1", 1, Deadline::after(2s), &interrupt);
    EXPECT_EQ(lookup.outcome, NameLookup::Outcome::resolved);
}

TEST(NameLookup, LocalhostResolvesThroughTheChildWhenTheHostsFileNamesIt) {
    NameLookup lookup = look_up_name("localhost", 6379, Deadline::after(5s), nullptr);
    if (hosts_file_names_localhost()) {
        ASSERT_EQ(lookup.outcome, NameLookup::Outcome::resolved) << lookup.error;
        ASSERT_FALSE(lookup.addresses.empty());
        for (const ResolvedAddress& a : lookup.addresses) {
            EXPECT_TRUE(a.family == AF_INET || a.family == AF_INET6) << a.family;
            EXPECT_EQ(a.socktype, SOCK_STREAM);
            EXPECT_GT(a.length, 0u);
        }
    }
    // Whatever the machine's resolver does, the lookup ends and leaves no child.
    EXPECT_EQ(unreaped_children(), 0);
}

TEST(NameLookup, ANameThatCannotBeResolvedFailsWithTheResolversReason) {
    auto started = std::chrono::steady_clock::now();
    NameLookup lookup = look_up_name(name_that_cannot_exist(), 6379, Deadline::after(5s), nullptr);
    EXPECT_EQ(lookup.outcome, NameLookup::Outcome::failed);
    EXPECT_FALSE(lookup.error.empty());
    EXPECT_TRUE(lookup.addresses.empty());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(unreaped_children(), 0);
}

TEST(NameLookup, ANameWithNoTimeLeftTimesOutWithoutAChild) {
    NameLookup lookup = look_up_name("localhost", 6379, Deadline::after(0ms), nullptr);
    EXPECT_EQ(lookup.outcome, NameLookup::Outcome::timed_out);
    EXPECT_EQ(unreaped_children(), 0);
}

TEST(NameLookup, AFiredInterruptEndsTheLookupAndTheChild) {
    FiredInterrupt interrupt;
    EXPECT_THROW(look_up_name(name_that_cannot_exist(), 6379, Deadline::after(5s), &interrupt),
                 Interrupted);
    // The child was killed and reaped before the exception left look_up_name.
    EXPECT_EQ(unreaped_children(), 0);
}

}  // namespace
}  // namespace lockrun
