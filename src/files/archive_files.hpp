#pragma once
// The archiving half of --files (SPEC §1): the paths a run produced, walked without
// following symlinks, written as a tar archive (pax) and compressed as it is written.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/shared_files.hpp"

namespace lockrun {

// `paths` are relative to the working directory. Memory is the compressed archive (at most
// `room` and a block) and the compressor's, whatever the files' size.
// `keep_alive` is called for every entry and every block written.
ArchivedFiles archive_files(const std::vector<std::string>& paths, std::uint64_t room,
                            const std::function<void()>& keep_alive);

}  // namespace lockrun
