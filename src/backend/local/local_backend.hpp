#pragma once
// The embedded backend of SPEC §6: no server, one machine. A lock is flock(2) on
// STATE_DIR/<sha256(KEY)>.lock, which the kernel releases when its holder dies; waiters
// are woken by inotify when a holder closes that file, not by polling. Results sit in
// files beside it, replaced whole by rename. The command inherits the locked descriptor
// (descriptor_for_command), so that a killed lockrun leaves the key locked until the
// command's processes are gone too (SPEC §4). Keys unused for a week are swept away
// (stale_keys.hpp).

#include <sys/types.h>

#include <optional>
#include <string>

#include "backend/local/flocked_files.hpp"
#include "core/backend.hpp"
#include "core/interrupt_source.hpp"
#include "core/record_seal.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {

// What .slots says is in force for readers (--shared) instead of an N.
inline constexpr std::string_view k_readers_in_force = "shared";
// How many readers a key can have at once on this backend.
inline constexpr int k_max_readers = 1000;

class LocalBackend : public Backend {
public:
    // Opens (creating if needed) and checks the state dir: throws ConfigError when unsafe.
    // `seal`: --cache-key-file's signing of the records stored and read.
    LocalBackend(const std::string& state_dir, std::string_view key, InterruptSource* interrupt,
                 RecordSeal seal = {});

    Acquisition check_and_acquire(const AcquireRequest& request) override;
    void prepare_to_wait() override;
    void wait_for_release(Deadline deadline) override;
    // Our flock cannot expire; the renewal checks that the locked file is still the one
    // at its name (`release --force` removes it), and answers at once.
    void send_renewal(const std::string& token, Millis lease, Deadline deadline) override;
    int renewal_fd() const override { return -1; }
    std::optional<bool> take_renewal_reply() override;
    bool finish(const FinishRequest& request) override;
    void abandon(const std::string& token) noexcept override;
    bool renew_now(const std::string& token, Millis lease) override;
    // The locked lock file (a semaphore's: its slots file) while we hold it, else -1.
    int descriptor_for_command() const override { return holding_ ? lock_file_.get() : -1; }
    // A semaphore's slot comes with a shared hold of the lock file, inherited too.
    std::vector<int> descriptors_for_command() const override;
    KeyStatus read_status() override;
    bool drop_stored_result() override;
    bool force_release() override;
    bool claim_refresh(Millis period) override;
    std::vector<ListedKey> list_keys() override;
    // SPEC §1: the run's output goes to STATE_DIR/<sha256(KEY)>.live (live_file.hpp).
    bool follows_live() const override { return !seal_.signs(); }
    std::unique_ptr<LivePublisher> publish_live(std::uint64_t fence, Millis lease) override;
    std::unique_ptr<LiveFeed> follow_live(const LockHeld& held) override;

private:
    // A stored result, or the outcome of the run this caller waited for.
    std::optional<ResultFound> find_result(const AcquireRequest& request,
                                           std::optional<std::string>& unreadable) const;
    // Opens the lock file (again, if it was replaced) and tries to lock it without blocking.
    bool try_lock();
    // Whether fd is the file now at the lock file's name (a semaphore's: its slots file).
    bool is_current_lock_file(int fd) const { return is_current_file(fd, lock_suffix_); }
    bool is_current_file(int fd, const std::string& suffix) const;
    // Opens the key's file `suffix` (again, if it was replaced) into `file` and flocks it
    // with `operation` without blocking: false when another holds it.
    bool lock_named(UniqueFd& file, const std::string& suffix, int operation);
    // -n N (local_semaphore.cpp): a slot of the semaphore, its holder, its release, and the
    // N in force of a semaphore that holds the key (nullopt: none does).
    Acquisition acquire_slot(const AcquireRequest& request);
    // `wanted`: the N (or "shared") this caller holds with; `given`: its option, for the
    // message when another is in force.
    // False: another caller kept it locked; this one waits and looks again.
    bool agree_on_max_holders(const std::string& wanted, const std::string& given);
    Acquisition take_slot(int slot, const AcquireRequest& request);
    void drop_slot_holds() noexcept;
    // The lock (or slot) is still ours: its file is the one at its name, and a slot's shared
    // hold of .lock too (`release --force` removes them).
    bool still_ours() const {
        return holding_ && is_current_lock_file(lock_file_.get()) &&
               (slot_ < 0 ||
                (shared_hold_.valid() && is_current_file(shared_hold_.get(), ".lock")));
    }
    std::optional<LockHeld> slot_holder(int fd, int max_holders) const;
    void release_slot() noexcept;
    std::optional<std::string> semaphore_in_force() const;
    // --shared: an exclusive caller that waits for readers flocks .writer, which new readers
    // look at before they enter; the first reader, for the waiting line.
    void mark_writer_waiting();
    bool writer_waits() const;
    std::optional<LockHeld> first_reader() const;
    bool semaphore_status(const std::string& base, const FlockedFiles& flocked,
                          KeyStatus& status) const;
    // The stored result of the key whose files are named `base`, if any and not expired.
    std::optional<StoredResult> stored_result(const std::string& base) const;
    // Who holds the key whose files are named `base`, and what is stored for it.
    KeyStatus status_of(const std::string& base, const FlockedFiles& flocked) const;
    // The key whose files are named `base`, as written down by its runs; nullopt when it
    // was not (lockrun 0.1) or is damaged.
    std::optional<std::string> recorded_key(const std::string& base) const;
    // Writes down, holding the lock, what the fence and the holder record need.
    std::uint64_t next_fence();
    void record_key();
    std::string name(const char* suffix) const { return file_base_ + suffix; }
    std::string name(const std::string& suffix) const { return file_base_ + suffix; }

    std::string state_dir_;
    UniqueFd dir_;
    std::string key_;
    std::string file_base_;  // hex sha256 of KEY
    InterruptSource* interrupt_;
    RecordSeal seal_;
    UniqueFd lock_file_;
    bool holding_ = false;
    // -n N: the lock file is the slots file (.slots), `slot_` ours of it, and `shared_hold_`
    // a shared flock of .lock that keeps exclusive callers out.
    std::string lock_suffix_ = ".lock";
    int slot_ = -1;
    UniqueFd shared_hold_;
    UniqueFd writer_waiting_;  // --shared: this exclusive caller waits for readers
    UniqueFd release_watch_;   // inotify on the lock file
    bool polling_ = false;     // no inotify to be had: look every few milliseconds
    ino_t watched_inode_ = 0;
    std::optional<bool> renewal_verdict_;
    UniqueFd live_file_;  // this run's live file, from the acquisition to the release
};

}  // namespace lockrun
