#include "backend/local/local_backend.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <utility>

#include "backend/local/dir_files.hpp"
#include "backend/local/key_files.hpp"
#include "backend/local/live_file.hpp"
#include "backend/local/lock_record.hpp"
#include "backend/local/stale_keys.hpp"
#include "backend/local/state_dir.hpp"
#include "backend/wait_for_fd.hpp"
#include "core/errors.hpp"
#include "core/holder_text.hpp"
#include "util/digest.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

// How often a waiter without inotify looks at the lock.
constexpr Millis k_poll_interval{10};

[[noreturn]] void fail(const std::string& what) {
    throw BackendUnavailable("local state: " + what + ": " + std::strerror(errno));
}

// Decodes a result file's record, or says why it cannot be used (its signature too, with
// --cache-key-file: `name` is the file's).
std::optional<CachedResult> usable(const RecordSeal& seal, std::string_view record,
                                   std::string_view name, std::optional<std::string>& unreadable) {
    auto decoded = seal.open(record, name, unix_now_ms());
    if (auto* bad = std::get_if<UnreadableRecord>(&decoded)) {
        unreadable = bad->reason;
        return std::nullopt;
    }
    return std::move(std::get<CachedResult>(decoded));
}

}  // namespace

LocalBackend::LocalBackend(const std::string& state_dir, std::string_view key,
                           InterruptSource* interrupt, RecordSeal seal)
    : state_dir_(state_dir),
      dir_(open_state_dir(state_dir)),
      key_(key),
      file_base_(sha256_hex(key)),
      interrupt_(interrupt),
      seal_(std::move(seal)) {}

std::optional<ResultFound> LocalBackend::find_result(const AcquireRequest& request,
                                                     std::optional<std::string>& unreadable) const {
    std::uint64_t now = unix_now_ms();
    if (auto file = read_file_at(dir_.get(), name(".out"))) {
        auto stored = decode_tagged_record(*file);  // tag: expiry
        if (!stored) {
            unreadable = "not a lockrun result file";
        } else if (stored->tag > now) {
            if (auto result = usable(seal_, stored->record, name(".out"), unreadable)) {
                return ResultFound{std::move(*result), false};
            }
        }
    }
    if (!request.waited_for_fence) return std::nullopt;
    if (auto file = read_file_at(dir_.get(), name(".last"))) {
        auto outcome = decode_tagged_record(*file);  // tag: fence, then expiry
        if (!outcome || outcome->tag != *request.waited_for_fence) return std::nullopt;
        auto expiring = decode_tagged_record(outcome->record);
        if (!expiring || expiring->tag <= now) return std::nullopt;
        if (auto result = usable(seal_, expiring->record, name(".last"), unreadable)) {
            // Only the run waited for (an old record put back would name another fence).
            if (result->fence != 0 && result->fence != *request.waited_for_fence) {
                unreadable = "the outcome shared in .last is not the run waited for";
                return std::nullopt;
            }
            return ResultFound{std::move(*result), true};
        }
    }
    return std::nullopt;
}

bool LocalBackend::is_current_file(int fd, const std::string& suffix) const {
    struct stat opened {
    }, named{};
    return ::fstat(fd, &opened) == 0 &&
           ::fstatat(dir_.get(), name(suffix).c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
           opened.st_ino == named.st_ino && opened.st_dev == named.st_dev;
}

// This re-check after every flock is what makes the sweep of unused keys safe
// (stale_keys.hpp): the sweep removes a key's files while it holds the lock and the lock
// file's name last, so a caller that opened the file before it was removed locks a file
// that is no longer at the name, sees it here, and opens the name again. Keep it.
bool LocalBackend::try_lock() {
    return lock_named(lock_file_, ".lock", LOCK_EX);
}

bool LocalBackend::lock_named(UniqueFd& file, const std::string& suffix, int operation) {
    for (;;) {
        // A lock file removed by `release --force` (or replaced) excludes nobody: use the
        // one now at the name.
        if (file.valid() && !is_current_file(file.get(), suffix)) file.reset();
        if (!file.valid()) {
            // A shared hold is opened for reading: closing it raises no IN_CLOSE_WRITE, which
            // would wake every waiter of the key, this one too.
            const int access = operation == LOCK_SH && suffix == ".lock" ? O_RDONLY : O_RDWR;
            file.reset(::openat(dir_.get(), name(suffix).c_str(),
                                access | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!file.valid()) fail("cannot open " + name(suffix));
        }
        if (::flock(file.get(), operation | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) return false;
            if (errno == EINTR) continue;
            fail("cannot lock " + name(suffix));
        }
        if (is_current_file(file.get(), suffix)) return true;
        file.reset();
    }
}

std::uint64_t LocalBackend::next_fence() {
    // A counter created afresh (a new key, one whose files were swept away, or a state dir
    // on a tmpfs after a reboot) starts from the clock in milliseconds, as on Redis
    // (SPEC §5, §6): tokens still only increase, since the one it replaces was counted up
    // from an earlier clock, one per acquisition.
    std::uint64_t fence = 0;
    update_file_at(dir_.get(), name(".fence"), [&](const std::optional<std::string>& text) {
        std::uint64_t previous = 0;
        if (text) {
            auto [end, error] =
                std::from_chars(text->data(), text->data() + text->size(), previous);
            if (error != std::errc() || end != text->data() + text->size()) previous = 0;
        }
        fence = previous != 0 ? previous + 1 : unix_now_ms();
        return std::to_string(fence);
    });
    return fence;
}

void LocalBackend::record_key() {
    // Once per key, not per run: one fstatat when it is there already.
    struct stat existing {};
    if (::fstatat(dir_.get(), name(".key").c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) return;
    replace_file_at(dir_.get(), name(".key"), key_);
}

Acquisition LocalBackend::check_and_acquire(const AcquireRequest& request) {
    std::optional<std::string> unreadable;
    if (request.max_holders > 1 || request.shared) return acquire_slot(request);
    if (request.read_cache) {
        if (auto found = find_result(request, unreadable)) return {std::move(*found), unreadable};
    }
    if (!try_lock()) {
        LockHeld held;
        held.lease_left = k_infinite;  // the kernel frees a dead holder; we are woken then
        if (auto in_force = semaphore_in_force()) {
            // The shared holds of a semaphore's holders or of readers (SPEC §9), whatever a
            // holder killed before them left written in .lock. Readers make this writer
            // wait, and its mark keeps new ones out.
            if (in_force->empty()) return {held, unreadable};  // a moment: look again
            if (*in_force != k_readers_in_force) {
                throw UsageError(max_holders_conflict(key_, *in_force, "-n 1"));
            }
            mark_writer_waiting();
            if (auto reader = first_reader()) held = *reader;
        } else if (auto holder = decode_local_holder(read_all(lock_file_.get(), name(".lock")))) {
            held.fence = holder->fence;
            held.holder = holder->holder;
            // Its live file, made before its name was written here, says whether it publishes.
            held.live = held.fence != 0 && live_file_fence(dir_.get(), name(".live")) == held.fence;
        }
        return {held, unreadable};
    }
    writer_waiting_.reset();
    holding_ = true;
    // Between the look above and the lock, a run may have finished and stored its result:
    // look again now that nobody else can change it (SPEC §1 step 3).
    if (request.read_cache) {
        if (auto found = find_result(request, unreadable)) {
            abandon(request.token);
            return {std::move(*found), unreadable};
        }
    }
    LocalHolder me;
    try {
        me = {next_fence(), request.holder};
        record_key();
    } catch (...) {
        abandon(request.token);
        throw;
    }
    if (request.publishes_live) {
        try {
            live_file_ = start_live_file(dir_.get(), name(".live"), me.fence);
        } catch (const BackendUnavailable&) {
            // The run goes on without followers: its waiters wait for its end, as before.
        }
    }
    std::string encoded = encode_local_holder(me);
    if (::ftruncate(lock_file_.get(), 0) != 0 ||
        ::pwrite(lock_file_.get(), encoded.data(), encoded.size(), 0) !=
            static_cast<ssize_t>(encoded.size())) {
        abandon(request.token);
        fail("cannot write " + name(".lock"));
    }
    // A flock has no lease: it is ours until we release it, however long we are paused.
    return {LockAcquired{me.fence, false}, unreadable};
}

void LocalBackend::prepare_to_wait() {
    if (polling_) return;
    if (!release_watch_.valid()) {
        release_watch_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (!release_watch_.valid()) {
            // A user may have only 128 inotify instances (fs.inotify.max_user_instances):
            // a stampede of waiters runs out. Those waiters look again every few
            // milliseconds instead of failing.
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
                polling_ = true;
                return;
            }
            fail("inotify_init1");
        }
    }
    // A holder closing the file (its release, or its death), a holder writing its name
    // into it, and the file being removed (`release --force`) all wake us. Removing a file
    // that is still open raises only IN_ATTRIB (its link count), not IN_DELETE_SELF.
    const uint32_t events =
        IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW;
    // Every file whose change may free this caller: the lock; a semaphore's or readers'
    // slots (.slots: not there while only exclusive callers have used the key), which an
    // exclusive caller waiting for readers needs too; and a writer's mark, which readers wait
    // for.
    std::vector<std::string> watched_suffixes{".lock", ".slots"};
    if (lock_suffix_ != ".lock") watched_suffixes.emplace_back(".writer");
    for (const std::string& suffix : watched_suffixes) {
        const std::string path = state_dir_ + "/" + name(suffix);
        if (::inotify_add_watch(release_watch_.get(), path.c_str(), events) >= 0) continue;
        if (errno == ENOSPC) {  // fs.inotify.max_user_watches
            polling_ = true;
            return;
        }
        if (errno == ENOENT && suffix != ".lock") continue;
        fail("cannot watch " + path);
    }
    struct stat watched {};
    if (lock_file_.valid() && ::fstat(lock_file_.get(), &watched) == 0) {
        watched_inode_ = watched.st_ino;
    }
}

void LocalBackend::wait_for_release(Deadline wait_deadline) {
    // Woken by inotify; still, no wait lasts more than a second without looking at the
    // lock again, so that a lost wake-up costs a second, not the whole --wait.
    Deadline deadline =
        earliest(wait_deadline, Deadline::after(polling_ ? k_poll_interval : Millis(1000)));
    if (polling_) {
        wait_for_fd(-1, 0, deadline, interrupt_);  // sleeps; nothing to watch
        return;
    }
    // Closed while this caller followed a run: watch again, then look again at once rather
    // than miss a release that came before the watch.
    if (!release_watch_.valid()) {
        prepare_to_wait();
        return;
    }
    // The lock file was replaced since we began to watch: watch the new one, and look
    // again at once rather than miss a release that came before the watch.
    struct stat current {};
    if (lock_file_.valid() && ::fstat(lock_file_.get(), &current) == 0 &&
        current.st_ino != watched_inode_) {
        prepare_to_wait();
        return;
    }
    FdWait waited = wait_for_fd(release_watch_.get(), POLLIN, deadline, interrupt_);
    if (waited == FdWait::failed) fail("poll");
    if (waited == FdWait::ready) {
        alignas(inotify_event) char events[4096];
        while (::read(release_watch_.get(), events, sizeof events) > 0) {
        }
    }
}

void LocalBackend::send_renewal(const std::string&, Millis, Deadline) {
    renewal_verdict_ = still_ours();
}

std::optional<bool> LocalBackend::take_renewal_reply() {
    return std::exchange(renewal_verdict_, std::nullopt);
}

bool LocalBackend::finish(const FinishRequest& request) {
    if (!holding_) return false;
    if (slot_ >= 0 && !still_ours()) {
        release_slot();
        return false;
    }
    if (!is_current_lock_file(lock_file_.get())) {
        // Forced free while we ran: someone else may hold the name now. Unlocked all the
        // same, so that the command's leftover processes do not keep a lock on the old file.
        holding_ = false;
        ::flock(lock_file_.get(), LOCK_UN);
        lock_file_.reset();
        return false;
    }
    std::uint64_t now = unix_now_ms();
    if (request.stored_record) {
        replace_file_at(
            dir_.get(), name(".out"),
            encode_tagged_record(
                now + static_cast<std::uint64_t>(request.cache_ttl.count()),
                seal_.seal(*request.stored_record, name(".out"),
                           static_cast<std::int64_t>(now) + request.cache_ttl.count())));
    }
    if (request.shared_record) {
        std::string expiring = encode_tagged_record(
            now + static_cast<std::uint64_t>(request.shared_ttl.count()),
            seal_.seal(*request.shared_record, name(".last"),
                       static_cast<std::int64_t>(now) + request.shared_ttl.count()));
        replace_file_at(dir_.get(), name(".last"), encode_tagged_record(request.fence, expiring));
    }
    // Before the release: a follower that finds the lock free has the end to read.
    if (request.live_end && live_file_.valid())
        append_live_end(live_file_.get(), *request.live_end);
    abandon(request.token);
    // Once a day, a run that has just let go of its lock removes the keys unused for a
    // week (SPEC §6); any other day this is one fstatat().
    sweep_if_due(dir_.get(), unix_now_ms());
    return true;
}

std::unique_ptr<LivePublisher> LocalBackend::publish_live(std::uint64_t, Millis) {
    if (!live_file_.valid()) return nullptr;
    UniqueFd file(::fcntl(live_file_.get(), F_DUPFD_CLOEXEC, 0));
    if (!file.valid()) return nullptr;
    return std::make_unique<LiveFilePublisher>(std::move(file));
}

std::unique_ptr<LiveFeed> LocalBackend::follow_live(const LockHeld& held) {
    std::unique_ptr<LiveFeed> feed =
        follow_live_file(dir_.get(), name(".live"), held.fence, interrupt_);
    // A follower waits on the run's file, not for the release. A watch armed before the run
    // was found followable goes now, while the run goes on, not in the follower's exit:
    // closing an inotify instance waits until the kernel has retired its watches (8-24 ms
    // while a stampede's callers close theirs at once). A caller that waits again watches
    // again (wait_for_release()).
    if (feed) release_watch_.reset();
    return feed;
}

bool LocalBackend::renew_now(const std::string&, Millis) {
    return still_ours();
}

void LocalBackend::abandon(const std::string&) noexcept {
    // Gone with the run: its followers read on from their open file, and a caller that comes
    // now finds none, and waits for the outcome instead.
    if (live_file_.valid() && is_current_file(live_file_.get(), ".live")) {
        ::unlinkat(dir_.get(), name(".live").c_str(), 0);
    }
    live_file_.reset();
    if (!holding_) return;
    if (slot_ >= 0) {
        release_slot();
        return;
    }
    holding_ = false;
    // Emptied first, so that nobody reads our name from a file that is no longer locked.
    // Then unlocked, not merely closed: the command inherited this open file description
    // (descriptor_for_command), and its leftover background processes may still hold it;
    // LOCK_UN releases the lock for every descriptor that shares it. Closing ours last
    // wakes the waiters (inotify IN_CLOSE_WRITE) once the lock is free.
    [[maybe_unused]] int ignored = ::ftruncate(lock_file_.get(), 0);
    ::flock(lock_file_.get(), LOCK_UN);
    lock_file_.reset();
}

}  // namespace lockrun

namespace lockrun {

std::optional<StoredResult> LocalBackend::stored_result(const std::string& base) const {
    auto file = read_file_at(dir_.get(), base + ".out");
    if (!file) return std::nullopt;
    auto stored = decode_tagged_record(*file);
    if (!stored) {
        return StoredResult{UnreadableRecord{"not a lockrun result file"}, Millis(0), file->size()};
    }
    std::uint64_t now = unix_now_ms();
    if (stored->tag <= now) return std::nullopt;
    return StoredResult{seal_.open(stored->record, base + ".out", static_cast<std::int64_t>(now)),
                        Millis(static_cast<std::int64_t>(stored->tag - now)),
                        stored->record.size()};
}

KeyStatus LocalBackend::status_of(const std::string& base, const FlockedFiles& flocked) const {
    KeyStatus status;
    status.stored = stored_result(base);
    if (semaphore_status(base, flocked, status)) return status;
    std::string lock_name = base + ".lock";
    UniqueFd file(::openat(dir_.get(), lock_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file.valid()) {
        if (errno == ENOENT) return status;
        fail("cannot open " + lock_name);
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) fail("cannot stat " + lock_name);
    if (!flocked.contains(info.st_dev, info.st_ino)) return status;
    LockHeld held;
    held.lease_left = k_infinite;
    if (auto holder = decode_local_holder(read_all(file.get(), lock_name))) {
        held.fence = holder->fence;
        held.holder = holder->holder;
    }
    status.holder = held;
    status.holders.push_back(held);
    return status;
}

KeyStatus LocalBackend::read_status() {
    return status_of(file_base_, FlockedFiles::read_now());
}

bool LocalBackend::drop_stored_result() {
    bool existed = read_file_at(dir_.get(), name(".out")).has_value();
    remove_file_at(dir_.get(), name(".out"));
    return existed;
}

std::optional<std::string> LocalBackend::recorded_key(const std::string& base) const {
    std::optional<std::string> key;
    try {
        key = read_file_at(dir_.get(), base + ".key");
    } catch (const BackendUnavailable&) {
        return std::nullopt;  // a symlink in its place, say: never followed
    }
    // Its hash names the files: a .key that does not match it is not this key's name.
    if (!key || sha256_hex(*key) != base) return std::nullopt;
    return key;
}

std::vector<ListedKey> LocalBackend::list_keys() {
    FlockedFiles flocked = FlockedFiles::read_now();
    std::vector<ListedKey> listed;
    for (const std::string& base : key_bases_in(dir_.get())) {
        KeyStatus status;
        try {
            status = status_of(base, flocked);
        } catch (const BackendUnavailable&) {
            // One key whose files cannot be read (a symlink planted in the dir) does not hide
            // the others; `lockrun status` on it says what is wrong.
            continue;
        }
        if (!status.holder && !status.stored) continue;
        ListedKey entry;
        if (auto key = recorded_key(base)) {
            entry.key = std::move(*key);
        } else {
            entry.key = base;
            entry.name_known = false;
        }
        entry.status = std::move(status);
        listed.push_back(std::move(entry));
    }
    std::sort(listed.begin(), listed.end(),
              [](const ListedKey& a, const ListedKey& b) { return a.key < b.key; });
    return listed;
}

bool LocalBackend::claim_refresh(Millis period) {
    // The file holds until when the claim stands (unix ms), read and written under its own
    // flock, so that of two callers that find it lapsed one claims it.
    UniqueFd file(::openat(dir_.get(), name(".refresh").c_str(),
                           O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.valid()) fail("cannot open " + name(".refresh"));
    while (::flock(file.get(), LOCK_EX) != 0) {
        if (errno != EINTR) fail("cannot lock " + name(".refresh"));
    }
    const std::string text = read_all(file.get(), name(".refresh"));
    const std::uint64_t now = unix_now_ms();
    std::uint64_t until = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), until);
    if (error == std::errc() && end == text.data() + text.size() && until > now) return false;
    const std::string claimed = std::to_string(now + static_cast<std::uint64_t>(period.count()));
    if (::ftruncate(file.get(), 0) != 0 || ::pwrite(file.get(), claimed.data(), claimed.size(),
                                                    0) != static_cast<ssize_t>(claimed.size())) {
        fail("cannot write " + name(".refresh"));
    }
    return true;  // the flock ends with the descriptor
}

bool LocalBackend::force_release() {
    bool held = read_status().holder.has_value();
    // The holder's flock cannot be taken from it; removing the file it locked frees the
    // name for the next caller, wakes the waiters (they watch the file), and the holder
    // notices at its next renewal check and stops its command. A semaphore's holders
    // (-n N) lock its slots file, and hold the lock file shared: both go.
    // .lock first: a caller that slips in between takes the .slots that goes next, and
    // finds it gone at its first renewal.
    remove_file_at(dir_.get(), name(".lock"));
    remove_file_at(dir_.get(), name(".slots"));
    return held;
}

}  // namespace lockrun
