#pragma once
#include <string>
#include <vector>

#include "core/backend.hpp"

namespace lockrun {

// This process as a lock holder: host name, our pid, user name, the command (argv joined
// by spaces, shortened to a readable length), and the start time.
HolderInfo current_holder(const std::vector<std::string>& argv);

}  // namespace lockrun
