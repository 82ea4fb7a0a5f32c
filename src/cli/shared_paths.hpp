#pragma once
// --files PATH as the record keeps it (SPEC §1): relative to the working directory and
// inside it, so that every caller extracts it into its own.

#include <string>
#include <vector>

namespace lockrun {

// The paths normalised (no `.` components, no repeated or trailing `/`), without
// duplicates, sorted. A path that is absolute, leaves the directory (`..`), is the
// directory itself, or lies inside another given path is a UsageError naming it.
std::vector<std::string> shared_paths(const std::vector<std::string>& given);

}  // namespace lockrun
