#pragma once
#include <string>

#include "backend/diagnosis.hpp"

namespace lockrun {

// Checks the local backend's state dir: safe (else ConfigError, as a run would), lockable,
// watchable by inotify, and whether it survives a reboot.
Diagnosis diagnose_local(const std::string& state_dir);

}  // namespace lockrun
