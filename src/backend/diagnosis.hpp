#pragma once
// What `lockrun doctor` found about a backend (SPEC §7): one line per check.

#include <string>
#include <vector>

namespace lockrun {

struct Finding {
    enum class Level { ok, warn, fail };
    Level level;
    std::string check;   // "reachable", "maxmemory-policy"
    std::string detail;  // what was seen, and for warn/fail what it means and what to do
};

using Diagnosis = std::vector<Finding>;

}  // namespace lockrun
