#pragma once
// --files on this host's disk: what the algorithm's SharedFiles does in a real run.

#include "core/shared_files.hpp"
#include "files/archive_files.hpp"
#include "files/extract_files.hpp"

namespace lockrun {

class DiskFiles : public SharedFiles {
public:
    explicit DiskFiles(bool preserve_owner) : preserve_owner_(preserve_owner) {}
    ArchivedFiles archive(const std::vector<std::string>& paths, std::uint64_t room,
                          const std::function<void()>& keep_alive) override {
        return archive_files(paths, room, keep_alive);
    }
    ExtractedFiles extract(const CachedResult& result) override {
        return extract_files(result, preserve_owner_);
    }

private:
    bool preserve_owner_;
};

}  // namespace lockrun
