#pragma once
// Reading and writing the local backend's files relative to its directory fd, never
// through a symlink, and replacing them whole (write to a temporary name, then rename),
// so that a reader sees the old file or the new one, never a part.

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

// Removes `name`; a missing file is not an error.
void remove_file_at(int dir_fd, const std::string& name);

}  // namespace lockrun
