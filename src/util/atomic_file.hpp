#pragma once
// Replacing a file whole: the bytes go to a temporary name beside it, which is then renamed
// over it, so that a reader sees the old file or the new one, never a part.

#include <sys/types.h>

#include <string>
#include <string_view>

namespace lockrun {

// Replaces `name` (relative to `dir_fd`, or AT_FDCWD) with `bytes`, created with `mode`.
// Never follows a symlink at the temporary name. On failure the temporary file is removed
// and std::system_error is thrown, its what() saying the step and the file ("create
// name.tmp.1f2e...: Permission denied").
void replace_file(int dir_fd, const std::string& name, std::string_view bytes, mode_t mode);

}  // namespace lockrun
