#pragma once
// SPEC §1: run a command at most once per key at a time, and let every caller reuse its
// result. This file is the algorithm; it knows a Backend, a CommandRunner and a Reporter,
// and nothing of sockets, files or processes.

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "core/command_runner.hpp"
#include "core/reporter.hpp"
#include "core/shared_files.hpp"

namespace lockrun {

// The run's settings. Their defaults are the settings table's (config/setting.cpp), the
// one place they are written; here every field is only value-initialised.
struct SingleFlightSettings {
    std::string key;
    CommandSpec command;  // without the LOCKRUN_* variables, which are added here
    Millis lease{};
    Millis wait{};  // k_infinite: no limit
    int conflict_exit_code = 0;
    bool use_cache = false;  // false: --no-cache
    bool refresh = false;
    bool cache_failures = false;
    bool cache_stderr = false;
    Millis cache_ttl{};
    std::uint64_t cache_max_bytes = 0;
    // --files: paths relative to the working directory, without `.` or `..` components,
    // sorted; archived with a stored result, and extracted by the callers that replay it.
    std::vector<std::string> files;
    // -n N (SPEC §9): a semaphore of N holders, lock only (use_cache is false); 1: a lock.
    int max_holders = 0;
    // --shared (SPEC §9): a reader's hold, beside other readers, excluding exclusive ones;
    // lock only.
    bool shared = false;
    OnLockLost on_lock_lost = OnLockLost::term;
    Millis kill_after{};
    Millis io_timeout{};
    // --on-backend-error run: when the backend cannot be reached, run the command anyway,
    // unguarded and uncached, rather than not at all.
    bool run_unguarded_on_backend_error = false;
    std::string token;  // random, made once per run
    HolderInfo me;
    // --stale: a stored result older than this is replayed, and refreshed in the background
    // (SPEC §1). nullopt: off.
    std::optional<Millis> stale;
    // The background refresh of a stale result (a --refresh run): the fence of that result.
    // It runs the command only while that result is still the one stored: another refresh
    // may have replaced it since this one was started.
    std::optional<std::uint64_t> refresh_of_fence;
};

// How one run ended: lockrun's exit status, and what the run did for --metrics-file and the
// final log line.
struct SingleFlightOutcome {
    enum class Kind { none, ran, replayed, conflict, lost, ran_unguarded };
    Kind kind = Kind::none;  // none: `failure` ended the run before it was any of the others
    int exit_status = 0;     // the failure's code when there is one
    // The error that ended the run (76, 126/127, a backend failure, a signal while waiting),
    // for the caller to report; the figures below are those of the run until then.
    std::exception_ptr failure;
    Millis waited{0};  // from the first acquisition attempt to the lock, a result or giving up
    Millis ran{0};     // how long the command ran
    std::optional<std::uint64_t> fence;  // this run's, or the holder's after a conflict
    // Replayed a result older than --stale (its fence): the caller starts its background
    // refresh.
    std::optional<std::uint64_t> stale_fence;
    bool stored = false;  // a result was stored for later callers
    // The run's output could not be written where this caller prints it (RunReport's).
    std::optional<std::string> output_failed;
};

// SPEC §1 from start to end. Errors of core/errors.hpp end the run as `failure`; nothing is
// left held whatever the error.
SingleFlightOutcome run_single_flight(const SingleFlightSettings& settings, Backend& backend,
                                      CommandRunner& runner, SharedFiles& files,
                                      Reporter& reporter);

}  // namespace lockrun
