#pragma once
// What one run of lockrun did, for --metrics-file: made from the algorithm's outcome, or
// from an error that ended the run before it.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/single_flight.hpp"
#include "util/duration.hpp"

namespace lockrun {

struct RunSummary {
    enum class Outcome { none, ran, cache_hit, conflict, lost, backend_error, interrupted, error };
    Outcome outcome = Outcome::none;
    Millis waited{0};  // from the first acquisition attempt to the lock, result or giving up
    Millis ran{0};     // how long the command ran
    std::optional<int> exit_code;
    std::optional<std::uint64_t> fence;
    // The command ran (guarded or not) or its result was replayed, with exit status 0: the
    // job's work is done (lockrun_last_success_timestamp_seconds).
    bool command_succeeded = false;
};

inline std::string_view outcome_name(RunSummary::Outcome outcome) {
    switch (outcome) {
        case RunSummary::Outcome::ran:
            return "ran";
        case RunSummary::Outcome::cache_hit:
            return "cache_hit";
        case RunSummary::Outcome::conflict:
            return "conflict";
        case RunSummary::Outcome::lost:
            return "lost";
        case RunSummary::Outcome::backend_error:
            return "backend_error";
        case RunSummary::Outcome::interrupted:
            return "interrupted";
        case RunSummary::Outcome::error:
            return "error";
        default:
            return "none";
    }
}

// How --metrics-file counts a run that the algorithm ended; one that an error ended is
// counted by the error's kind where it is caught.
inline RunSummary summary_of(const SingleFlightOutcome& outcome) {
    using Kind = SingleFlightOutcome::Kind;
    using Outcome = RunSummary::Outcome;
    Outcome counted = outcome.kind == Kind::ran             ? Outcome::ran
                      : outcome.kind == Kind::replayed      ? Outcome::cache_hit
                      : outcome.kind == Kind::conflict      ? Outcome::conflict
                      : outcome.kind == Kind::lost          ? Outcome::lost
                      : outcome.kind == Kind::ran_unguarded ? Outcome::backend_error
                                                            : Outcome::none;
    bool did_the_job = outcome.kind == Kind::ran || outcome.kind == Kind::replayed ||
                       outcome.kind == Kind::ran_unguarded;
    return {counted,       outcome.waited,
            outcome.ran,   outcome.exit_status,
            outcome.fence, did_the_job && outcome.exit_status == 0 && !outcome.failure};
}

}  // namespace lockrun
