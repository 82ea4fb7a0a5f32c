#pragma once
#include "cli/options.hpp"

namespace lockrun {

// `lockrun config`: every effective setting as a TOML line with its origin as a comment,
// secrets redacted; returns 0.
int show_config(const Invocation& invocation);

}  // namespace lockrun
