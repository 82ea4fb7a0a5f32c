#pragma once
// SPEC §3: the exit codes lockrun itself chooses. Defined here and nowhere else.

namespace lockrun::exit_code {

inline constexpr int k_usage = 64;
inline constexpr int k_backend_unavailable = 69;
inline constexpr int k_internal = 70;
// --files could not be extracted here (sysexits' EX_CANTCREAT).
inline constexpr int k_cannot_create = 73;
// The output this caller printed is incomplete: a follower fell behind the window of a run's
// output that the backend keeps (SPEC §1), or our stdout or stderr refused it (a full disk);
// sysexits' EX_IOERR.
inline constexpr int k_output_incomplete = 74;
inline constexpr int k_conflict = 75;
inline constexpr int k_lock_lost = 76;
inline constexpr int k_config = 78;
inline constexpr int k_not_executable = 126;
inline constexpr int k_not_found = 127;
inline constexpr int k_signal_base = 128;

}  // namespace lockrun::exit_code
