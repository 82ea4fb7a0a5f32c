#pragma once
#include "backend/diagnosis.hpp"

namespace lockrun {

// Prints the findings, one line each; returns 0 when nothing failed (warnings allowed),
// 69 when the backend is unusable.
int report_diagnosis(const Diagnosis& diagnosis);

}  // namespace lockrun
