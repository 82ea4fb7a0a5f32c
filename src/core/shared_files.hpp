#pragma once
// --files (SPEC §1): the files a run produces, archived with its result and extracted by
// every caller that replays it. The algorithm decides when; src/files/ does it, with
// libarchive.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cached_result.hpp"

namespace lockrun {

// The paths archived: CachedResult's files fields, or why they could not be.
struct ArchivedFiles {
    std::string archive;  // one zstd frame of a tar archive
    std::uint64_t archive_bytes = 0;
    std::vector<std::string> warnings;  // a path that did not exist, a socket not shared
    bool over_room = false;             // larger, compressed, than the room given
    std::string failure;                // a file that could not be read, say; empty: none
};

// How an extraction ended.
struct ExtractedFiles {
    enum class Kind {
        extracted,
        // The archive holds what no caller may write (an absolute path, `..`, a path
        // through a symlink, a device) or is damaged: nothing was written; the record is a
        // miss.
        refused,
        // This caller could not write the files (disk full, a directory where a file
        // goes): exit 73; files already moved to their final names are whole.
        failed,
    };
    Kind kind = Kind::extracted;
    std::string reason;  // for refused and failed: one line naming the path
    std::uint64_t entries = 0;
};

class SharedFiles {
public:
    virtual ~SharedFiles() = default;
    // Archives `paths` (relative to the working directory, symlinks not followed),
    // compressed, stopping once the archive is over `room` bytes. `keep_alive` is called
    // often (for every entry and every block written), to renew the lease meanwhile.
    virtual ArchivedFiles archive(const std::vector<std::string>& paths, std::uint64_t room,
                                  const std::function<void()>& keep_alive) = 0;
    // Extracts `result`'s archive into the working directory.
    virtual ExtractedFiles extract(const CachedResult& result) = 0;
};

}  // namespace lockrun
