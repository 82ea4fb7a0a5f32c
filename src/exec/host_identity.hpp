#pragma once
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace lockrun {

// This process as a lock holder: host name, our pid, user name, the command (argv joined
// by spaces, shortened to a readable length), and the start time.
// `whole_command`: false keeps only the program (argv[0]) out of the arguments.
HolderInfo current_holder(const std::vector<std::string>& argv, bool whole_command);

}  // namespace lockrun
