#pragma once
// Reading and writing the local backend's files relative to its directory fd, never
// through a symlink, and replacing them whole (write to a temporary name, then rename),
// so that a reader sees the old file or the new one, never a part.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

namespace lockrun {

// The whole file, or nullopt when it does not exist. Throws BackendUnavailable on any
// other failure (a symlink in its place included).
std::optional<std::string> read_file_at(int dir_fd, const std::string& name);

// All of fd's bytes from offset 0.
std::string read_all(int fd, const std::string& what);

// Replaces `name` with `bytes` atomically (mode 0600). Throws BackendUnavailable.
void replace_file_at(int dir_fd, const std::string& name, std::string_view bytes);

// Rewrites `name` in place with what `next` makes of its contents (nullopt when it did not
// exist or was empty), and returns that. For a small file that only the holder of the
// key's lock writes (the fencing counter): one pwrite(2) of a few bytes from offset 0 is
// seen whole or not at all, and unlike a replacement by rename it makes and frees no inode
// (on ext4 that rename cost 0.3 to 3.5 ms of every run). Throws BackendUnavailable (a
// symlink, or anything but a regular file, in its place included).
std::string update_file_at(
    int dir_fd, const std::string& name,
    const std::function<std::string(const std::optional<std::string>&)>& next);

// Removes `name`; a missing file is not an error.
void remove_file_at(int dir_fd, const std::string& name);

}  // namespace lockrun
