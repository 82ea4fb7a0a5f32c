#include "files/extract_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>

#include "files/libarchive_handle.hpp"
#include "util/dir_names.hpp"
#include "util/unique_fd.hpp"
#include "util/zstd_stream.hpp"

namespace lockrun {
namespace {

std::string error_text(int error) {
    return std::strerror(error);
}

// Removes `name` in `parent` and, if it is a directory, everything in it (made writable
// first: an archived directory may be read-only). Symlinks are removed, never followed.
void remove_tree(int parent, const std::string& name) {
    if (::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return;
    // A directory of the staging tree, which nobody else can reach: made readable first (an
    // archived mode of 0000 would keep it from being listed).
    ::fchmodat(parent, name.c_str(), S_IRWXU, 0);
    UniqueFd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) return;
    for (const std::string& inner : names_in_dir(dir.get()).value_or(std::vector<std::string>{})) {
        remove_tree(dir.get(), inner);
    }
    ::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
}

// The directory the archive is extracted into, removed with whatever is left in it.
class StagingDirectory {
public:
    explicit StagingDirectory(int parent) : parent_(parent) {
        char name[] = ".lockrun-files-XXXXXX";
        if (::mkdtemp(name) == nullptr) return;
        name_ = name;
        fd_ = UniqueFd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    StagingDirectory(const StagingDirectory&) = delete;
    StagingDirectory& operator=(const StagingDirectory&) = delete;
    ~StagingDirectory() {
        if (!name_.empty()) remove_tree(parent_, name_);
    }
    bool valid() const { return fd_.valid(); }
    int fd() const { return fd_.get(); }
    const std::string& name() const { return name_; }

private:
    int parent_;
    std::string name_;
    UniqueFd fd_;
};

// libarchive pulls the archive a buffer at a time from the stored frame.
struct FrameSource {
    explicit FrameSource(std::string_view frame) : reader(frame, "the archive") {}
    ZstdReader reader;
    std::uint64_t bytes = 0;
};

la_ssize_t read_frame(archive* handle, void* data, const void** buffer) {
    auto& source = *static_cast<FrameSource*>(data);
    try {
        std::string_view bytes = source.reader.next();
        if (bytes.empty() && !source.reader.error().empty()) {
            archive_set_error(handle, EINVAL, "%s", source.reader.error().c_str());
            return -1;
        }
        source.bytes += bytes.size();
        *buffer = bytes.data();
        return static_cast<la_ssize_t>(bytes.size());
    } catch (const std::bad_alloc&) {
        archive_set_error(handle, ENOMEM, "out of memory");
        return -1;
    }
}

// Past these an entry is refused, not tried: a name the file system would refuse is the
// archive's fault, not this host's, and the moves below hold two descriptors a level.
constexpr std::size_t k_max_path = 4096;
constexpr std::size_t k_max_depth = 128;

bool inside(std::string_view path, const std::vector<std::string>& shared) {
    for (const std::string& top : shared) {
        if (path == top || (path.starts_with(top) && path.substr(top.size()).starts_with('/'))) {
            return true;
        }
    }
    return false;
}

// Why an entry must not be written whatever the disk holds, or nullopt. libarchive's secure
// flags check the same and more (a path through a symlink): these are said in our words,
// and an entry outside the --files paths the record names is refused too.
std::optional<std::string> refusal(archive_entry* entry, const std::vector<std::string>& shared) {
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr || *raw == '\0') return "an entry without a name";
    std::string_view path = raw;
    const std::string shown(path);
    if (path.starts_with('/')) return shown + ": an absolute path";
    if (path.size() > k_max_path) return shown.substr(0, 64) + "...: a path too long";
    std::size_t depth = 0;
    for (std::string_view rest = path; !rest.empty(); ++depth) {
        std::size_t slash = rest.find('/');
        std::string_view part = rest.substr(0, slash);
        if (part == "..") return shown + ": a path that leaves the directory (..)";
        if (part.size() > NAME_MAX) return shown.substr(0, 64) + "...: a name too long";
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    }
    if (depth > k_max_depth) return shown.substr(0, 64) + "...: a path too deep";
    while (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
    if (!inside(path, shared)) return shown + ": not under the record's --files paths";
    if (archive_entry_hardlink(entry) != nullptr) return shown + ": a hard link";
    const mode_t type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        return shown + ": a device, fifo or socket";
    }
    // lockrun archives no sparse file: one would claim a size its archive does not hold.
    if (archive_entry_sparse_count(entry) > 0) return shown + ": a sparse file";
    return std::nullopt;
}

// A write that failed because of this host (disk full, no permission): the caller cannot
// take the files, and running the command would not help. Any other failure is the
// archive's (libarchive's refusals of a path through a symlink, a damaged entry).
bool is_this_hosts_fault(int error) {
    switch (error) {
        case ENOSPC:
        case EDQUOT:
        case EROFS:
        case EIO:
        case EACCES:
        case EPERM:
        case EMFILE:
        case ENFILE:
        case ENOMEM:
        case EXDEV:
            return true;
        default:
            return false;
    }
}

ExtractedFiles refused(std::string reason) {
    return {ExtractedFiles::Kind::refused, std::move(reason), 0};
}
ExtractedFiles failed(std::string reason) {
    return {ExtractedFiles::Kind::failed, std::move(reason), 0};
}

// A failure of libarchive's writer, as refused or failed.
ExtractedFiles write_failure(archive* disk, const std::string& shown) {
    std::string reason = shown.empty() ? archive_error(disk) : shown + ": " + archive_error(disk);
    return is_this_hosts_fault(archive_errno(disk)) ? failed(std::move(reason))
                                                    : refused(std::move(reason));
}

// Writes every entry of the archive under the staging directory.
ExtractedFiles extract_into(const CachedResult& result, const StagingDirectory& staging,
                            bool preserve_owner) {
    FrameSource source(result.files_archive);
    ArchiveHandle in(archive_read_new());
    ArchiveHandle disk(archive_write_disk_new());
    if (!in || !disk) throw std::bad_alloc();
    archive_read_support_format_tar(in.get());
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM |
                ARCHIVE_EXTRACT_TIME;
    if (preserve_owner) flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(disk.get(), flags);
    if (archive_read_open(in.get(), &source, nullptr, read_frame, nullptr) != ARCHIVE_OK) {
        return refused(archive_error(in.get()));
    }
    ExtractedFiles extracted;
    archive_entry* entry = nullptr;
    for (;;) {
        int status = archive_read_next_header(in.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        // ARCHIVE_WARN: a name not translated to this locale; the checks below read its bytes.
        if (status < ARCHIVE_WARN) return refused(archive_error(in.get()));
        if (auto why = refusal(entry, result.files)) return refused(*why);
        const std::string shown = archive_entry_pathname(entry);
        archive_entry_set_pathname(entry, (staging.name() + "/" + shown).c_str());
        // Modes are kept, but a shared file never gains privileges on another host.
        archive_entry_set_perm(entry, archive_entry_perm(entry) & ~(S_ISUID | S_ISGID));
        if (archive_write_header(disk.get(), entry) < ARCHIVE_WARN) {
            return write_failure(disk.get(), shown);
        }
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        while ((status = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
            if (archive_write_data_block(disk.get(), block, size, offset) < ARCHIVE_WARN) {
                return write_failure(disk.get(), shown);
            }
        }
        if (status != ARCHIVE_EOF) return refused(shown + ": " + archive_error(in.get()));
        if (archive_write_finish_entry(disk.get()) < ARCHIVE_WARN) {
            return write_failure(disk.get(), shown);
        }
        ++extracted.entries;
    }
    // Directories' modes and times, deferred until their contents are written.
    if (archive_write_close(disk.get()) < ARCHIVE_WARN) return write_failure(disk.get(), "");
    // The whole frame, as long as the record says: checked here, before anything is moved,
    // rather than whenever a record is read (by a caller without --files, by `status`).
    while (!source.reader.next().empty()) {
    }
    if (!source.reader.error().empty()) return refused(source.reader.error());
    if (source.bytes != result.files_archive_bytes) {
        return refused("the archive is not as long as its record says");
    }
    return extracted;
}

std::string move_into_place(int from, int to, const std::string& shown_dir);

constexpr int k_directory_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Renames the staged directory `name` into `to`. Moving a directory to another parent
// rewrites its `..`, which needs write permission on it: a read-only one (chmod -R a-w
// dist) is made writable for the move and given its mode back.
bool rename_directory(int from, int to, const std::string& name, mode_t mode) {
    const bool writable = (mode & S_IWUSR) != 0;
    if (!writable) ::fchmodat(from, name.c_str(), (mode & 07777) | S_IWUSR, 0);
    if (::renameat(from, name.c_str(), to, name.c_str()) != 0) {
        const int error = errno;
        if (!writable) ::fchmodat(from, name.c_str(), mode & 07777, 0);
        errno = error;
        return false;
    }
    if (!writable) {
        UniqueFd moved(::openat(to, name.c_str(), k_directory_flags));
        if (moved.valid()) ::fchmod(moved.get(), mode & 07777);
    }
    return true;
}

// Merges the staged directory `name` into the directory of that name in `to`.
std::string merge_directory(int from, int to, const std::string& name, const std::string& shown,
                            const struct stat& there) {
    // The staged one is ours alone (under a 0700 directory): listable and writable for the
    // moves out of it, whatever its archived mode.
    ::fchmodat(from, name.c_str(), S_IRWXU, 0);
    UniqueFd inner_from(::openat(from, name.c_str(), k_directory_flags));
    UniqueFd inner_to(::openat(to, name.c_str(), k_directory_flags));
    if (!inner_from.valid() || !inner_to.valid()) return shown + ": " + error_text(errno);
    // One of ours that an earlier replay made read-only: writable while files move in.
    const bool reopened = there.st_uid == ::geteuid() && (there.st_mode & S_IRWXU) != S_IRWXU;
    if (reopened) ::fchmod(inner_to.get(), (there.st_mode & 07777) | S_IRWXU);
    std::string problem = move_into_place(inner_from.get(), inner_to.get(), shown);
    if (reopened) ::fchmod(inner_to.get(), there.st_mode & 07777);
    return problem;
}

// Puts the staged `name` in place in `to`: a file (or symlink) replaces one of the same name
// atomically; a directory is renamed whole where there is none, else merged into the one
// there (also when another caller extracting here put it there meanwhile). An empty string,
// or why it could not be put in place.
std::string place(int from, int to, const std::string& name, const std::string& shown) {
    struct stat staged {};
    if (::fstatat(from, name.c_str(), &staged, AT_SYMLINK_NOFOLLOW) != 0) {
        return shown + ": " + error_text(errno);
    }
    auto rename_file = [&]() -> std::string {
        if (::renameat(from, name.c_str(), to, name.c_str()) == 0) return {};
        return shown + ": " + error_text(errno);
    };
    for (int attempt = 0; attempt < 2; ++attempt) {
        struct stat there {};
        if (::fstatat(to, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) return shown + ": " + error_text(errno);
            if (!S_ISDIR(staged.st_mode)) return rename_file();
            if (rename_directory(from, to, name, staged.st_mode)) return {};
            if (errno == EEXIST || errno == ENOTEMPTY) continue;
            return shown + ": " + error_text(errno);
        }
        if (S_ISDIR(staged.st_mode) && S_ISDIR(there.st_mode)) {
            return merge_directory(from, to, name, shown, there);
        }
        if (S_ISDIR(staged.st_mode)) {
            return shown + " is in the way: a directory goes there, and it is " +
                   (S_ISLNK(there.st_mode) ? "a symlink" : "not a directory");
        }
        if (S_ISDIR(there.st_mode)) {
            return shown + " is in the way: it is a directory, and a file goes there";
        }
        return rename_file();
    }
    return shown + ": " + error_text(EEXIST);
}

// Moves what was extracted into `to`, path by path (place()). Never through a symlink of the
// working directory: directories are opened O_NOFOLLOW.
std::string move_into_place(int from, int to, const std::string& shown_dir) {
    auto names = names_in_dir(from);
    // Not a success with nothing moved: the staged files would go with their directory.
    if (!names)
        return (shown_dir.empty() ? "the staged files" : shown_dir) + ": " + error_text(errno);
    for (const std::string& name : *names) {
        const std::string shown = shown_dir.empty() ? name : shown_dir + "/" + name;
        if (std::string problem = place(from, to, name, shown); !problem.empty()) return problem;
    }
    return {};
}

}  // namespace

ExtractedFiles extract_files(const CachedResult& result, bool preserve_owner) {
    UniqueFd here(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!here.valid()) return failed("the working directory: " + error_text(errno));
    StagingDirectory staging(here.get());
    if (!staging.valid()) return failed("cannot make a directory here: " + error_text(errno));
    ExtractedFiles extracted = extract_into(result, staging, preserve_owner);
    if (extracted.kind != ExtractedFiles::Kind::extracted) return extracted;
    if (std::string problem = move_into_place(staging.fd(), here.get(), ""); !problem.empty()) {
        return failed(std::move(problem));
    }
    return extracted;
}

}  // namespace lockrun
