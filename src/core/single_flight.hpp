#pragma once
// SPEC §1: run a command at most once per key at a time, and let every caller reuse its
// result. This file is the algorithm; it knows a Backend, a CommandRunner and a Reporter,
// and nothing of sockets, files or processes.

#include <cstdint>
#include <string>

#include "core/backend.hpp"
#include "core/command_runner.hpp"
#include "core/reporter.hpp"
#include "core/run_summary.hpp"

namespace lockrun {

struct SingleFlightSettings {
    std::string key;
    CommandSpec command;  // without the LOCKRUN_* variables, which are added here
    Millis lease{30'000};
    Millis wait{0};  // k_infinite: no limit
    int conflict_exit_code = 75;
    bool use_cache = true;  // false: --no-cache
    bool refresh = false;
    bool cache_failures = false;
    bool cache_stderr = false;
    Millis cache_ttl{300'000};
    std::uint64_t cache_max_bytes = 16 * 1024 * 1024;
    OnLockLost on_lock_lost = OnLockLost::term;
    Millis kill_after{10'000};
    Millis io_timeout{2'000};
    // --on-backend-error run: when the backend cannot be reached, run the command anyway,
    // unguarded and uncached, rather than not at all.
    bool run_unguarded_on_backend_error = false;
    std::string token;  // random, made once per run
    HolderInfo me;
};

// How long the outcome of a run that was not stored stays readable for the callers that
// waited for it: they read it within moments of being woken.
inline constexpr Millis k_shared_outcome_ttl{10'000};

// Returns lockrun's exit status. Throws the errors of core/errors.hpp. `summary` is filled
// in as the run goes, so it says what happened also when an error is thrown.
int run_single_flight(const SingleFlightSettings& settings, Backend& backend, CommandRunner& runner,
                      Reporter& reporter, RunSummary& summary);

}  // namespace lockrun
