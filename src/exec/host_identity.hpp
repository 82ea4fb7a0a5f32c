#pragma once
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace lockrun {

// This host's name (gethostname); "" when it has none.
std::string this_host_name();

// This process as a lock holder: host name, our pid, our uid (as the user, in decimal), the
// command (argv joined by spaces, shortened to a readable length), and the start time.
// `whole_command`: false keeps only the program (argv[0]) out of the arguments.
HolderInfo current_holder(const std::vector<std::string>& argv, bool whole_command);

// A holder whose user is a uid (as current_holder writes it) and whose host is this one,
// with the user's name instead, for operators; the holder unchanged when the uid has no
// name here, or the holder is another host's (whose uids may name other users).
HolderInfo holder_with_user_name(HolderInfo holder);

}  // namespace lockrun
