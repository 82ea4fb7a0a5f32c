#include "backend/local/stale_keys.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "backend/local/dir_files.hpp"
#include "backend/local/key_files.hpp"
#include "backend/local/lock_record.hpp"
#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

std::uint64_t modified_unix_ms(const struct stat& info) {
    return static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1000 +
           static_cast<std::uint64_t>(info.st_mtim.tv_nsec) / 1'000'000;
}

std::uint64_t minus(std::uint64_t now, std::chrono::milliseconds span) {
    auto ms = static_cast<std::uint64_t>(span.count());
    return now > ms ? now - ms : 0;
}

std::optional<struct stat> stat_at(int dir_fd, const std::string& name) {
    struct stat info {};
    if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
    return info;
}

// Whether the key has a stored result that has not expired. A file that is not a readable
// result (damaged, or a symlink: never followed) keeps nothing alive.
bool has_live_result(int dir_fd, const std::string& base, std::uint64_t now) {
    std::optional<std::string> file;
    try {
        file = read_file_at(dir_fd, base + ".out");
    } catch (const BackendUnavailable&) {
        return false;
    }
    if (!file) return false;
    auto stored = decode_tagged_record(*file);  // tag: expiry
    return stored && stored->tag > now;
}

// Whether none of the key's files (but its lock file, when `with_lock` is false) changed
// after `cutoff`, and it has no live result.
bool looks_unused(int dir_fd, const std::string& base, std::uint64_t cutoff, std::uint64_t now,
                  bool with_lock) {
    for (std::string_view suffix : k_key_file_suffixes) {
        if (!with_lock && suffix == ".lock") continue;
        std::string name = base + std::string(suffix);
        struct stat info {};
        if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            return false;
        }
        if (modified_unix_ms(info) >= cutoff) return false;
    }
    return !has_live_result(dir_fd, base, now);
}

// Removes the files of one key if it is unused and its lock free; see the header for why a
// caller opening the lock file meanwhile is safe.
bool remove_if_unused(int dir_fd, const std::string& base, std::uint64_t cutoff,
                      std::uint64_t now) {
    // A first look, without the lock, passes over the keys in use at the cost of a few stats.
    if (!looks_unused(dir_fd, base, cutoff, now, true)) return false;
    std::string lock_name = base + ".lock";
    std::optional<struct stat> seen = stat_at(dir_fd, lock_name);
    // A key whose lock file is gone (`release --force` removes it) gets one for the time of
    // its removal, so that it is removed under the lock all the same.
    UniqueFd lock(
        ::openat(dir_fd, lock_name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!lock.valid()) return false;
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return false;  // held: in use
    struct stat locked {};
    std::optional<struct stat> named = stat_at(dir_fd, lock_name);
    if (::fstat(lock.get(), &locked) != 0 || !named || named->st_ino != locked.st_ino ||
        named->st_dev != locked.st_dev) {
        return false;  // replaced since we opened it: someone uses the key
    }
    // Look again now that no caller can acquire the key: one may have run in between. A
    // lock file that was there at the first look must be that same file and still old;
    // one that was not is ours (a run in between would have written a fresh .fence).
    if (seen && (seen->st_ino != locked.st_ino || modified_unix_ms(locked) >= cutoff)) {
        return false;
    }
    if (!looks_unused(dir_fd, base, cutoff, now, false)) return false;
    for (std::string_view suffix : k_key_file_suffixes) {
        if (suffix != ".lock") remove_file_at(dir_fd, base + std::string(suffix));
    }
    // The name of the lock file last: until it is gone, every caller of the key opens this
    // file and cannot lock it while we hold it, so none can see the key half removed.
    remove_file_at(dir_fd, lock_name);
    return true;  // closing `lock` unlocks; callers that wait for it find the name gone
}

}  // namespace

std::size_t sweep_unused_keys(int dir_fd, std::uint64_t now) {
    std::uint64_t cutoff = minus(now, k_unused_key_lifetime);
    std::size_t removed = 0;
    for (const std::string& name : names_in(dir_fd)) {
        auto parsed = parse_key_file_name(name);
        if (!parsed || !parsed->temporary) continue;
        // A temporary file lives for the microseconds between its write and its rename.
        auto info = stat_at(dir_fd, name);
        if (info && modified_unix_ms(*info) < cutoff) remove_file_at(dir_fd, name);
    }
    for (const std::string& base : key_bases_in(dir_fd)) {
        if (remove_if_unused(dir_fd, base, cutoff, now)) ++removed;
    }
    return removed;
}

std::size_t sweep_if_due(int dir_fd, std::uint64_t now) noexcept {
    try {
        std::uint64_t due_before = minus(now, k_sweep_interval);
        // The one look of the common case.
        std::optional<struct stat> marked = stat_at(dir_fd, k_sweep_marker);
        if (marked && modified_unix_ms(*marked) > due_before) return 0;
        UniqueFd marker(
            ::openat(dir_fd, k_sweep_marker, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!marker.valid()) return 0;
        // One sweeper at a time; the others go on with their run.
        if (::flock(marker.get(), LOCK_EX | LOCK_NB) != 0) return 0;
        struct stat info {};
        if (::fstat(marker.get(), &info) != 0 || !S_ISREG(info.st_mode)) return 0;
        // Another caller swept between our look and our lock. (A marker we have just
        // created is new too, but it was not there to be looked at: sweep.)
        if (marked && modified_unix_ms(info) > due_before) return 0;
        // Marked first, so that the callers that look from now on pass by.
        struct timespec marked_at[2];
        marked_at[0].tv_sec = static_cast<time_t>(now / 1000);
        marked_at[0].tv_nsec = static_cast<long>(now % 1000) * 1'000'000;
        marked_at[1] = marked_at[0];
        if (::futimens(marker.get(), marked_at) != 0) return 0;
        return sweep_unused_keys(dir_fd, now);
    } catch (...) {
        return 0;
    }
}

}  // namespace lockrun
