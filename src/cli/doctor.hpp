#pragma once
#include <string_view>

#include "backend/diagnosis.hpp"

namespace lockrun {

// Prints the findings, one line each (or, with `json`, one JSON object: the backend, whether
// it is usable, and every finding); returns 0 when nothing failed (warnings allowed), 69 when
// the backend is unusable.
int report_diagnosis(const Diagnosis& diagnosis, std::string_view backend, bool json);

}  // namespace lockrun
