#pragma once
// SPEC §1: a caller that waits for a run follows it live. It prints the run's output as the
// holder publishes it (core/live_output.hpp), and ends with the run. Part of the algorithm
// of single_flight.cpp, which decides when to follow and what each ending means.

#include <cstdint>
#include <string>
#include <variant>

#include "core/backend.hpp"
#include "core/live_output.hpp"
#include "core/reporter.hpp"
#include "util/deadline.hpp"

namespace lockrun {

// Printed the whole output; the caller exits with the run's status.
struct FollowedToEnd {
    LiveEnd end;
};
// Printed nothing, and cannot follow this run (its output so far is no longer kept, or it
// ended without an outcome): the caller waits for it as a caller that does not follow, and
// shares its outcome or runs the command.
struct CannotFollow {
    std::string why;
};
// --wait ran out; `printed` bytes of the output were printed.
struct FollowWaitOver {
    std::uint64_t printed = 0;
};
// After printing a part of the output, it cannot print the rest: exit `exit_code` (74: fell
// behind the kept window; 76: the run ended without publishing its end: it lost its lock,
// or its lockrun died) with `message`.
struct FollowBroken {
    int exit_code = 0;
    std::string message;
};
using FollowResult = std::variant<FollowedToEnd, CannotFollow, FollowWaitOver, FollowBroken>;

// Follows the run `held` until it ends, --wait (`wait_deadline`) runs out, or it cannot go
// on. Throws BackendUnavailable, Interrupted.
FollowResult follow_run(const std::string& key, const LockHeld& held, LiveFeed& feed,
                        Deadline wait_deadline, Reporter& reporter);

}  // namespace lockrun
