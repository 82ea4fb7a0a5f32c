#pragma once
// The names of one key's files in the state dir (SPEC §6): <hex SHA-256 of KEY> followed by
// a suffix, and the temporary names they are written under before a rename. The sweep of
// unused keys and `lockrun list` find the keys of a state dir by these names alone, so
// every file of a key is named here.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

// .lock: flock()ed by the holder, which writes itself into it on every acquisition;
// .fence: the fencing counter; .out: the stored result with its expiry; .last: the outcome
// of the last run that was not stored, for its waiters; .key: the KEY itself (its hash names
// the files), for `list`; .refresh: when the last background refresh (--stale) was
// started, and until when no other may be; .slots: a semaphore's (-n N) N in force and its
// slots, or its readers' (local_semaphore.cpp); .writer: flocked by an exclusive caller
// that waits for readers. The lock comes first: it is removed last.
inline constexpr std::array<std::string_view, 9> k_key_file_suffixes = {
    ".lock", ".fence", ".out", ".last", ".key", ".refresh", ".slots", ".writer", ".live"};

struct KeyFileName {
    std::string base;         // 64 lowercase hex digits
    std::string_view suffix;  // one of k_key_file_suffixes
    bool temporary = false;   // "<base><suffix>.tmp.<token>", being written (or left by a crash)
};

// What `name` is, when it is one of a key's files; nullopt for anything else (the sweep
// marker, a doctor probe, a file a user put there).
std::optional<KeyFileName> parse_key_file_name(std::string_view name);

// Every name in the directory (without "." and ".."), read through a descriptor of its
// own so that dir_fd's offset is untouched. Throws BackendUnavailable when it cannot be read.
std::vector<std::string> names_in(int dir_fd);

// The base of every key that has at least one (non-temporary) file in the directory,
// sorted, each once.
std::vector<std::string> key_bases_in(int dir_fd);

}  // namespace lockrun
