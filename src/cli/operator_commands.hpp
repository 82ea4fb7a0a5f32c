#pragma once
// SPEC §7: status, list, release --force, cache show, cache drop. Each prints what it found
// on stdout (the data an operator asked for; with --json one JSON document), says anything
// else through the reporter (so --log-format applies), and returns lockrun's exit status.

#include <string>

#include "cli/backend_choice.hpp"
#include "cli/terminal_reporter.hpp"
#include "core/backend.hpp"

namespace lockrun {

// `choice`: the backend in use and where that choice came from (SPEC §7).
int show_status(Backend& backend, const std::string& key, bool json, const BackendChoice& choice);
// Every key with a held lock or a stored result, one line each (or a JSON array).
int list_keys(Backend& backend, bool json, TerminalReporter& reporter);
int release_lock(Backend& backend, const std::string& key, bool force);
// A miss is exit 1, one line on stderr, and with `json` a document that says so.
int show_cached_result(Backend& backend, const std::string& key, bool json,
                       TerminalReporter& reporter);
int drop_cached_result(Backend& backend, const std::string& key);

}  // namespace lockrun
