#include "files/archive_files.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "files/libarchive_handle.hpp"
#include "util/zstd_stream.hpp"

namespace lockrun {
namespace {

// Where libarchive's blocks go: compressed into the archive, until it passes the room.
struct CompressedSink {
    ArchivedFiles& archived;
    std::uint64_t room;
    ZstdCompressor compressor;
    const std::function<void()>& keep_alive;
};

la_ssize_t write_compressed(archive* /*handle*/, void* data, const void* bytes, size_t size) {
    auto& sink = *static_cast<CompressedSink*>(data);
    if (sink.archived.over_room) return -1;
    try {
        sink.compressor.add({static_cast<const char*>(bytes), size}, sink.archived.archive);
        sink.keep_alive();
    } catch (const std::bad_alloc&) {
        sink.archived.failure = "out of memory";
        return -1;
    }
    sink.archived.archive_bytes += size;
    if (sink.archived.archive.size() > sink.room) {
        sink.archived.over_room = true;
        return -1;
    }
    return static_cast<la_ssize_t>(size);
}

// Files, directories and symlinks are shared; a socket, fifo or device is not a product
// to hand to other hosts.
bool is_shared_type(mode_t type) {
    return type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK;
}

// One --files path and everything under it. Returns false when the archive cannot go on
// (`archived` says why).
bool archive_path(archive* disk, archive* out, const std::string& path, ArchivedFiles& archived,
                  const std::function<void()>& keep_alive) {
    if (archive_read_disk_open(disk, path.c_str()) != ARCHIVE_OK) {
        archived.failure = path + ": " + archive_error(disk);
        return false;
    }
    ArchiveEntryHandle entry(archive_entry_new());
    if (!entry) throw std::bad_alloc();
    for (;;) {
        archive_entry_clear(entry.get());
        keep_alive();
        int status = archive_read_next_header2(disk, entry.get());
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) {
            archived.failure = archive_error(disk);
            return false;
        }
        const char* name = archive_entry_pathname(entry.get());
        const std::string shown = name != nullptr ? name : path;
        if (!is_shared_type(archive_entry_filetype(entry.get()))) {
            archived.warnings.push_back(shown + " is not a file, directory or symlink: not shared");
            continue;
        }
        // Numbers only: names would cost a lookup in /etc/passwd, and mean nothing on
        // another host unless root asks for owners.
        archive_entry_set_uname(entry.get(), nullptr);
        archive_entry_set_gname(entry.get(), nullptr);
        if (archive_read_disk_can_descend(disk) && archive_read_disk_descend(disk) != ARCHIVE_OK) {
            archived.failure = shown + ": " + archive_error(disk);
            return false;
        }
        // ARCHIVE_WARN: a detail not kept (a name not translated); the entry is written.
        if (archive_write_header(out, entry.get()) < ARCHIVE_WARN) {
            if (archived.failure.empty() && !archived.over_room) {
                archived.failure = shown + ": " + archive_error(out);
            }
            return false;
        }
        if (archive_entry_filetype(entry.get()) != AE_IFREG) continue;
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        la_int64_t written = 0;
        while ((status = archive_read_data_block(disk, &block, &size, &offset)) == ARCHIVE_OK) {
            written += static_cast<la_int64_t>(size);
            if (archive_write_data(out, block, size) != static_cast<la_ssize_t>(size)) {
                if (archived.failure.empty() && !archived.over_room) {
                    // Written short: the file grew since its size was read.
                    archived.failure =
                        shown + ": " +
                        (archive_errno(out) != 0 ? archive_error(out)
                                                 : "it changed while it was archived");
                }
                return false;
            }
        }
        if (status != ARCHIVE_EOF) {
            archived.failure = shown + ": " + archive_error(disk);
            return false;
        }
        // Shorter than its size when it was read: libarchive would pad it with zeros.
        if (written != archive_entry_size(entry.get())) {
            archived.failure = shown + ": it changed while it was archived";
            return false;
        }
    }
    archive_read_close(disk);
    return true;
}

}  // namespace

ArchivedFiles archive_files(const std::vector<std::string>& paths, std::uint64_t room,
                            const std::function<void()>& keep_alive) {
    ArchivedFiles archived;
    CompressedSink sink{archived, room, ZstdCompressor(), keep_alive};
    ArchiveHandle disk(archive_read_disk_new());
    ArchiveHandle out(archive_write_new());
    if (!disk || !out) throw std::bad_alloc();
    // What another host can use: no ACLs, attributes or flags (libarchive would need more
    // privileges to restore them, and a forged record could use them).
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                                   ARCHIVE_READDISK_NO_FFLAGS |
                                                   ARCHIVE_READDISK_NO_SPARSE);
    archive_read_disk_set_symlink_physical(disk.get());
    archive_write_set_format_pax_restricted(out.get());
    // Names as the bytes they are: lockrun runs in the C locale, where a name that is not
    // ASCII has no UTF-8 translation.
    archive_write_set_options(out.get(), "hdrcharset=BINARY");
    // No padding to tar's 10 KiB records: the archive is compressed, never put on a tape.
    archive_write_set_bytes_in_last_block(out.get(), 1);
    if (archive_write_open2(out.get(), &sink, nullptr, write_compressed, nullptr, nullptr) !=
        ARCHIVE_OK) {
        archived.failure = archive_error(out.get());
        return archived;
    }
    for (const std::string& path : paths) {
        struct stat info {};
        if (::lstat(path.c_str(), &info) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
            archived.warnings.push_back(path + " does not exist after the run: not shared");
            continue;
        }
        if (!archive_path(disk.get(), out.get(), path, archived, keep_alive)) return archived;
    }
    if (archive_write_close(out.get()) != ARCHIVE_OK) {
        if (archived.failure.empty() && !archived.over_room) {
            archived.failure = archive_error(out.get());
        }
        return archived;
    }
    try {
        sink.compressor.finish(archived.archive);
    } catch (const std::bad_alloc&) {
        archived.failure = "out of memory";
    }
    if (archived.archive.size() > room) archived.over_room = true;
    return archived;
}

}  // namespace lockrun
