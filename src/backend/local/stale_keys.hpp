#pragma once
// Removing the files of keys unused for a week (SPEC §6), so that a state dir of daily
// keys (`report:2026-11-22`) does not grow without end.
//
// Why this is safe against a caller that opens a key's lock file at that moment: the
// sweep removes a key's files only while it holds the flock of its lock file, and removes
// the lock file's name last. A caller that opened the old file before the name went away
// gets the flock only after the sweep let go, and then finds that the file it locked is
// no longer the one at the name (LocalBackend::try_lock() checks this after every flock),
// so it opens the name again and locks a new file. A caller that comes after the name is
// gone creates a new file. Either way no two callers ever hold "the" lock of one key at
// once, and the counter in a .fence created afresh starts from the clock, so fencing
// tokens still only increase.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace lockrun {

// A key whose files have not changed for this long, and whose stored result (if any) has
// expired, is removed. The lock file is written on every acquisition, the fence too.
inline constexpr std::chrono::milliseconds k_unused_key_lifetime = std::chrono::hours(24 * 7);
// At most one sweep per state dir in this time: the sweep reads the whole directory.
inline constexpr std::chrono::milliseconds k_sweep_interval = std::chrono::hours(24);
// The file whose modification time says when the state dir was last swept.
inline constexpr const char* k_sweep_marker = ".swept";

// Sweeps the directory when its last sweep is older than k_sweep_interval (or it has never
// been swept), and marks it swept. When it is not due this costs one fstatat(), so that the
// uncontended path stays as fast as it was. Best effort: never throws, and an error only
// ends this sweep early. Returns how many keys it removed.
std::size_t sweep_if_due(int dir_fd, std::uint64_t now_unix_ms) noexcept;

// Removes, now, the files of every key unused for k_unused_key_lifetime as of now_unix_ms
// whose lock nobody holds, and temporary files older than that (a writer that died between
// writing and renaming). Never follows a symlink. Throws BackendUnavailable when the
// directory cannot be read. Returns how many keys it removed.
std::size_t sweep_unused_keys(int dir_fd, std::uint64_t now_unix_ms);

}  // namespace lockrun
