#pragma once
// SPEC §7: status, release --force, cache show, cache drop. Each prints what it found on
// stdout (the data an operator asked for) and returns lockrun's exit status.

#include <string>

#include "core/backend.hpp"

namespace lockrun {

int show_status(Backend& backend, const std::string& key, bool json);
int release_lock(Backend& backend, const std::string& key, bool force);
int show_cached_result(Backend& backend, const std::string& key, bool json);
int drop_cached_result(Backend& backend, const std::string& key);

}  // namespace lockrun
