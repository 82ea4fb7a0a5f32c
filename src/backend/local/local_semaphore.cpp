// -n N on the local backend (SPEC §9): a semaphore of N slots in one file, <base>.slots.
// Its first bytes hold the N in force; slot i is a byte-range lock (F_OFD_SETLK) on the
// byte at k_slot_lock_base + i, which, like flock, belongs to the open file description:
// the command inherits it and the kernel frees it when the last process holding it dies.
// Each holder writes its record at (i + 1) * k_record_stride. Every holder also holds a
// shared flock of the slots file (so that the N in force is rewritten only when nobody
// holds a slot) and of the key's .lock file (so that an exclusive caller, which locks
// .lock exclusively, and a semaphore exclude each other).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "backend/local/byte_range.hpp"
#include "backend/local/dir_files.hpp"
#include "backend/local/flocked_files.hpp"
#include "backend/local/local_backend.hpp"
#include "backend/local/lock_record.hpp"
#include "core/errors.hpp"
#include "core/holder_text.hpp"
#include "util/little_endian.hpp"

namespace lockrun {
namespace {

constexpr off_t k_max_holders_bytes = 16;  // the N in force, as decimal text
constexpr off_t k_slot_lock_base = 16;
constexpr off_t k_record_stride = 64 * 1024;  // room for a holder record (its command line)
constexpr off_t k_fence_lock_byte = 15;       // taken while a holder counts its fence

[[noreturn]] void fail_on_slots(const std::string& what) {
    throw BackendUnavailable("local state: " + what + ": " + std::strerror(errno));
}

off_t record_offset(int slot) {
    return (static_cast<off_t>(slot) + 1) * k_record_stride;
}

bool lock_slot(int fd, int slot) {
    struct flock range = byte_range(F_WRLCK, k_slot_lock_base + slot);
    return ::fcntl(fd, F_OFD_SETLK, &range) == 0;
}

void unlock_slot(int fd, int slot) {
    struct flock range = byte_range(F_UNLCK, k_slot_lock_base + slot);
    ::fcntl(fd, F_OFD_SETLK, &range);
}

// Whether another open file description holds one of `count` slots from `first`: a look
// that takes no lock, so that it never gets in the way of a caller taking one.
bool slot_taken(int fd, int first, int count = 1) {
    struct flock range = byte_range(F_WRLCK, k_slot_lock_base + first, count);
    return ::fcntl(fd, F_OFD_GETLK, &range) == 0 && range.l_type != F_UNLCK;
}

bool any_slot_taken(int fd) {
    return slot_taken(fd, 0, k_max_readers);
}

// A blocking byte-range lock, for the moment it is needed.
class RangeLock {
public:
    RangeLock(int fd, off_t at) : fd_(fd), at_(at) { set(F_WRLCK, F_OFD_SETLKW); }
    RangeLock(const RangeLock&) = delete;
    RangeLock& operator=(const RangeLock&) = delete;
    ~RangeLock() { set(F_UNLCK, F_OFD_SETLK); }

private:
    void set(short type, int command) {
        struct flock range = byte_range(type, at_);
        while (::fcntl(fd_, command, &range) != 0) {
            if (errno == EINTR) continue;
            if (type != F_UNLCK) fail_on_slots("cannot lock the fence of a semaphore");
            return;
        }
    }
    int fd_;
    off_t at_;
};

std::string read_max_holders(int fd) {
    char text[k_max_holders_bytes] = {};
    ssize_t got = ::pread(fd, text, sizeof text, 0);
    if (got <= 0) return {};
    std::string_view value(text, static_cast<std::size_t>(got));
    return std::string(value.substr(0, value.find_first_of(std::string_view("\n\0", 2))));
}

std::optional<LocalHolder> read_record(int fd, int slot) {
    char size_bytes[4] = {};
    if (::pread(fd, size_bytes, sizeof size_bytes, record_offset(slot)) != 4) return std::nullopt;
    std::string_view header(size_bytes, 4);
    std::uint32_t size = 0;
    take_little_endian(header, size);
    if (size == 0 || size > k_record_stride - 4) return std::nullopt;
    std::string bytes(size, '\0');
    if (::pread(fd, bytes.data(), size, record_offset(slot) + 4) != static_cast<ssize_t>(size)) {
        return std::nullopt;
    }
    return decode_local_holder(bytes);
}

}  // namespace

Acquisition LocalBackend::acquire_slot(const AcquireRequest& request) {
    const int max_holders = request.shared ? k_max_readers : request.max_holders;
    const std::string in_force =
        request.shared ? std::string(k_readers_in_force) : std::to_string(max_holders);
    lock_suffix_ = ".slots";
    const LockHeld nobody_known{0, {}, k_infinite};  // the kernel frees a dead holder's slot
    try {
        // An exclusive holder locks .lock exclusively: a reader waits for it; a semaphore's
        // -n disagrees with it. Locked without a holder written down is a moment of another
        // caller (one that found a stored result, the sweep of unused keys): wait.
        if (!lock_named(shared_hold_, ".lock", LOCK_SH)) {
            auto holder = decode_local_holder(read_all(shared_hold_.get(), name(".lock")));
            drop_slot_holds();
            if (!holder) return {nobody_known, std::nullopt};
            if (!request.shared) {
                throw UsageError(max_holders_conflict(key_, "1", hold_kind(max_holders, false)));
            }
            return {LockHeld{holder->fence, holder->holder, k_infinite}, std::nullopt};
        }
        // A writer waits for the readers there are: no new one enters before it.
        if ((request.shared && writer_waits()) ||
            !agree_on_max_holders(in_force, hold_kind(max_holders, request.shared))) {
            drop_slot_holds();
            return {nobody_known, std::nullopt};
        }
        for (int slot = 0; slot < max_holders; ++slot) {
            if (lock_slot(lock_file_.get(), slot)) return take_slot(slot, request);
            if (errno != EAGAIN && errno != EACCES) {
                fail_on_slots("cannot lock a slot of " + name(".slots"));
            }
        }
        // Every slot is taken: this caller waits, holding nothing (the file stays open,
        // watched).
        std::optional<LockHeld> held = slot_holder(lock_file_.get(), max_holders);
        ::flock(lock_file_.get(), LOCK_UN);
        shared_hold_.reset();
        return {held.value_or(nobody_known), std::nullopt};
    } catch (...) {
        if (!holding_) drop_slot_holds();
        throw;
    }
}

Acquisition LocalBackend::take_slot(int slot, const AcquireRequest& request) {
    slot_ = slot;
    holding_ = true;
    LocalHolder me;
    try {
        // Holders of other slots take fences at the same time: one at a time, under a lock
        // of its own (a byte of .slots), or two could read the same counter.
        RangeLock counting(lock_file_.get(), k_fence_lock_byte);
        me = {next_fence(), request.holder};
        record_key();
    } catch (...) {
        abandon(request.token);
        throw;
    }
    std::string record;
    append_little_endian<std::uint32_t>(record, 0);
    record += encode_local_holder(me);
    if (record.size() > static_cast<std::size_t>(k_record_stride)) {
        record.resize(k_record_stride);  // a command line of 64 KiB: cut, not refused
    }
    std::string size;
    append_little_endian<std::uint32_t>(size, static_cast<std::uint32_t>(record.size() - 4));
    record.replace(0, 4, size);
    if (::pwrite(lock_file_.get(), record.data(), record.size(), record_offset(slot)) !=
        static_cast<ssize_t>(record.size())) {
        const int error = errno;
        abandon(request.token);
        errno = error;
        fail_on_slots("cannot write " + name(".slots"));
    }
    return {LockAcquired{me.fence, false}, std::nullopt};
}

void LocalBackend::drop_slot_holds() noexcept {
    if (lock_file_.valid()) ::flock(lock_file_.get(), LOCK_UN);
    if (shared_hold_.valid()) ::flock(shared_hold_.get(), LOCK_UN);
    shared_hold_.reset();
}

bool LocalBackend::agree_on_max_holders(const std::string& wanted, const std::string& given) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        // Exclusive: nobody holds a slot, and this caller sets the N in force. Then shared,
        // as every holder is, and the N read again: another caller may have set its own in
        // between (flock converts in two steps), and the first to be read back stands.
        if (lock_named(lock_file_, ".slots", LOCK_EX)) {
            std::string text = wanted + "\n";
            text.resize(k_max_holders_bytes, '\0');
            if (::pwrite(lock_file_.get(), text.data(), text.size(), 0) !=
                static_cast<ssize_t>(text.size())) {
                fail_on_slots("cannot write " + name(".slots"));
            }
        }
        if (!lock_named(lock_file_, ".slots", LOCK_SH)) {
            // Another caller holds it exclusively for a moment (the above).
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        const std::string in_force = read_max_holders(lock_file_.get());
        if (in_force == wanted) return true;
        drop_slot_holds();
        throw UsageError(max_holders_conflict(key_, in_force, given));
    }
    // Held exclusively all along (a caller stopped in that moment): wait, and look again.
    return false;
}

void LocalBackend::mark_writer_waiting() {
    if (!writer_waiting_.valid()) {
        writer_waiting_.reset(::openat(dir_.get(), name(".writer").c_str(),
                                       O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!writer_waiting_.valid()) fail_on_slots("cannot open " + name(".writer"));
    }
    // At every look: another writer's mark, or a reader's look at it, may have been in the
    // way the last time; on a descriptor that holds it already this changes nothing.
    ::flock(writer_waiting_.get(), LOCK_EX | LOCK_NB);
}

bool LocalBackend::writer_waits() const {
    UniqueFd mark(::openat(dir_.get(), name(".writer").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!mark.valid()) return false;
    return ::flock(mark.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

std::optional<LockHeld> LocalBackend::first_reader() const {
    UniqueFd slots(::openat(dir_.get(), name(".slots").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!slots.valid()) return std::nullopt;
    return slot_holder(slots.get(), k_max_readers);
}

std::optional<LockHeld> LocalBackend::slot_holder(int fd, int max_holders) const {
    for (int slot = 0; slot < max_holders; ++slot) {
        if (!slot_taken(fd, slot)) continue;
        LockHeld held{0, {}, k_infinite};  // the kernel frees a dead holder's slot
        if (auto holder = read_record(fd, slot)) {
            held.fence = holder->fence;
            held.holder = holder->holder;
        }
        return held;
    }
    return std::nullopt;
}

void LocalBackend::release_slot() noexcept {
    holding_ = false;
    // Written down as free first; then unlocked for every descriptor that shares the
    // file (the command's leftover processes too), which wakes the waiters.
    const char none[4] = {};
    [[maybe_unused]] ssize_t ignored =
        ::pwrite(lock_file_.get(), none, sizeof none, record_offset(slot_));
    unlock_slot(lock_file_.get(), slot_);
    ::flock(lock_file_.get(), LOCK_UN);
    slot_ = -1;
    lock_file_.reset();
    if (shared_hold_.valid()) ::flock(shared_hold_.get(), LOCK_UN);
    shared_hold_.reset();
}

std::vector<int> LocalBackend::descriptors_for_command() const {
    if (!holding_) return {};
    if (slot_ < 0) return {lock_file_.get()};
    return {lock_file_.get(), shared_hold_.get()};
}

std::optional<std::string> LocalBackend::semaphore_in_force() const {
    UniqueFd slots(::openat(dir_.get(), name(".slots").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!slots.valid() || !any_slot_taken(slots.get())) return std::nullopt;
    return read_max_holders(slots.get());  // empty: taken a moment ago, not yet written
}

bool LocalBackend::semaphore_status(const std::string& base, const FlockedFiles& flocked,
                                    KeyStatus& status) const {
    const std::string slots_name = base + ".slots";
    UniqueFd slots(::openat(dir_.get(), slots_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!slots.valid()) return false;
    (void)flocked;  // the slots' own locks say whether anyone holds one
    if (!any_slot_taken(slots.get())) return false;
    const std::string text = read_max_holders(slots.get());
    int max_holders = 0;
    if (text == k_readers_in_force) {
        status.shared = true;
        max_holders = k_max_readers;
    } else {
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), max_holders);
        if (error != std::errc() || end != text.data() + text.size() || max_holders < 1) {
            return false;
        }
        status.max_holders = max_holders;
    }
    for (int slot = 0; slot < max_holders; ++slot) {
        if (!slot_taken(slots.get(), slot)) continue;
        LockHeld held{0, {}, k_infinite};
        if (auto holder = read_record(slots.get(), slot)) {
            held.fence = holder->fence;
            held.holder = holder->holder;
        }
        status.holders.push_back(std::move(held));
    }
    if (!status.holders.empty()) status.holder = status.holders.front();
    return true;
}

}  // namespace lockrun
