#pragma once
// What one run of lockrun did, filled in as it happens so that it is complete even when the
// run ends with an error: for --metrics-file and the final log line.

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/duration.hpp"

namespace lockrun {

struct RunSummary {
    enum class Outcome { none, ran, cache_hit, conflict, lost, backend_error, interrupted, error };
    Outcome outcome = Outcome::none;
    Millis waited{0};  // from the first acquisition attempt to the lock, result or giving up
    Millis ran{0};     // how long the command ran
    std::optional<int> exit_code;
    std::optional<std::uint64_t> fence;
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

}  // namespace lockrun
