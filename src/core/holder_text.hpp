#pragma once
// How messages name the holder of a lock. Its fields were written by whoever can write to
// the backend, so they are shown escaped, on one line (util/one_line.hpp).

#include <string>
#include <string_view>

#include "core/backend.hpp"

namespace lockrun {

// Whether a holder's user is written as a uid (decimal, as lockrun writes it since 0.2),
// rather than a name (as older records have it).
bool user_is_uid(std::string_view user);

// "pid 4242 on build-7 (user ci)", or "(uid 1001)" for a user written as a uid; the host
// and the user only when known.
std::string holder_text(const HolderInfo& holder);

// holder_text, then what it runs, for how long, and its fence:
// "pid 4242 on build-7 (user ci) running 'make all' for 3s, fence 17".
std::string describe_holder(const LockHeld& held);

// The run that holds a lock, as a follower names it: "the run of pid 4242 on build-7
// (uid 1001) (fence 17)".
std::string run_text(const LockHeld& held);

// How a caller holds a key, for the messages of SPEC §9: "-n 3", "--shared", "-n 1".
std::string hold_kind(int max_holders, bool shared);

// The one line of a caller whose -n (or --shared) disagrees with the hold in force for the
// key (SPEC §9), `in_force` as the backend recorded it (1: an exclusive lock; "shared").
std::string max_holders_conflict(const std::string& key, const std::string& in_force,
                                 const std::string& given);

}  // namespace lockrun
