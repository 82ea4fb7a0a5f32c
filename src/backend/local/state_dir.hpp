#pragma once
// The local backend's directory (SPEC §6): where it is, and whether it is safe to use.
// Another user who could write into it could swap a lock file for their own, so an
// existing directory must be ours, not writable by group or others, and not a symlink.

#include <string>

#include "util/unique_fd.hpp"

namespace lockrun {

// /tmp/lockrun-$UID, whatever the session: cron, a login shell, a systemd service and
// `sudo -u` of one user all get the same directory (SPEC §6). No environment variable
// (XDG_RUNTIME_DIR, HOME, TMPDIR) changes it; --state-dir does.
std::string default_state_dir();

// Creates the directory (mode 0700) if it is missing, checks it, and opens it without
// following a symlink. Throws ConfigError with one line that says how to fix it.
UniqueFd open_state_dir(const std::string& path);

}  // namespace lockrun
