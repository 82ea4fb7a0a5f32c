#pragma once
// Turns a Redis host name into addresses within a deadline. getaddrinfo(3) has no timeout
// of its own (a resolver that never answers holds it for attempts x timeout of
// resolv.conf, or longer), and a thread stuck in it cannot be stopped. So a name that is
// not a numeric address is looked up in a child process, which can be abandoned: the
// parent waits for its answer on a pipe until the deadline or a signal, and then kills it.
// A numeric address (127.0.0.1, ::1) is converted in-process, without a child.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/interrupt_source.hpp"
#include "util/deadline.hpp"

namespace lockrun {

// One address to connect(2) to, as getaddrinfo gave it.
struct ResolvedAddress {
    int family = 0;
    int socktype = 0;
    int protocol = 0;
    sockaddr_storage address{};
    socklen_t length = 0;

    const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&address); }
};

struct NameLookup {
    enum class Outcome { resolved, failed, timed_out };
    Outcome outcome = Outcome::failed;
    std::vector<ResolvedAddress> addresses;  // resolved: at least one, in getaddrinfo's order
    std::string error;                       // failed: why, e.g. gai_strerror's text
};

// Looks up `host` for TCP on `port`. Waits at most until `deadline`; throws Interrupted
// when `interrupt` (may be null) fires first. Never leaves a child behind: one that has
// not answered by then is killed and reaped before this returns.
NameLookup look_up_name(const std::string& host, std::uint16_t port, Deadline deadline,
                        InterruptSource* interrupt);

}  // namespace lockrun
