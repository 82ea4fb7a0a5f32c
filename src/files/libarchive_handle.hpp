#pragma once
// Ownership of libarchive's handles: every archive opened is freed, whatever way the code
// leaves.

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>

namespace lockrun {

struct FreeArchive {
    void operator()(archive* handle) const;
};
struct FreeArchiveEntry {
    void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
using ArchiveHandle = std::unique_ptr<archive, FreeArchive>;
using ArchiveEntryHandle = std::unique_ptr<archive_entry, FreeArchiveEntry>;

// The handle's last error, for a message: never empty.
std::string archive_error(archive* handle);

}  // namespace lockrun
