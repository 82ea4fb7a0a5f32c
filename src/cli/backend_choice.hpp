#pragma once
// SPEC §7: which backend a run uses, and why. A crontab that lacks the Redis URL silently
// turns fleet-wide locking into per-host locking; `-v` and `status` name the choice and
// the setting it came from, so that is found at once rather than after a double run.

#include <string>

#include "cli/options.hpp"

namespace lockrun {

struct BackendChoice {
    bool redis = false;
    // What was chosen and from where, e.g. "the Redis backend at redis://h:6379 (from
    // LOCKRUN_REDIS_URL)" or "the local backend in /tmp/lockrun-1000 (the default: no Redis
    // URL is configured)". Never shows a password.
    std::string description;
    std::string source;  // "--backend", "LOCKRUN_REDIS_URL", "FILE:LINE", "default"
};

BackendChoice choose_backend(const Options& options, const SettingValues& settings);

}  // namespace lockrun
