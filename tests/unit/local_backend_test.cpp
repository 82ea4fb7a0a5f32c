// What only the local backend promises (SPEC §4, §6, §7), beside the contract that it shares
// with Redis (backend_contract_test.cpp): the lock lives in a descriptor that the command
// inherits, fencing counters start from the clock, and `list` finds every key by its files.

#include "backend/local/local_backend.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/errors.hpp"
#include "local_backend_requests.hpp"
#include "util/digest.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

using local_test::finish_for;
using local_test::request_for;
using local_test::unix_now_ms;

CachedResult sample_result(std::string stdout_bytes) {
    return {0, 1'700'000'000'000, 12, "host-a", {{OutputStream::stdout_stream, stdout_bytes}}};
}

class LocalBackendTest : public ::testing::Test {
protected:
    LocalBackendTest()
        : dir_(std::filesystem::temp_directory_path() / ("lockrun-local-" + random_token())) {}
    ~LocalBackendTest() override { std::filesystem::remove_all(dir_); }

    std::unique_ptr<LocalBackend> make(const std::string& key) {
        return std::make_unique<LocalBackend>(dir_.string(), key, nullptr);
    }
    std::filesystem::path file_of(const std::string& key, const std::string& suffix) const {
        return dir_ / (sha256_hex(key) + suffix);
    }
    // Takes the lock of `key` and returns its fence; fails the test when it is held.
    static std::uint64_t acquire(Backend& backend, const std::string& token) {
        Acquisition got = backend.check_and_acquire(request_for(token));
        auto* acquired = std::get_if<LockAcquired>(&got.outcome);
        if (acquired == nullptr) throw std::runtime_error("expected to acquire the lock");
        return acquired->fence;
    }
    static bool can_acquire(Backend& backend, const std::string& token) {
        Acquisition got = backend.check_and_acquire(request_for(token));
        auto* acquired = std::get_if<LockAcquired>(&got.outcome);
        if (acquired == nullptr) return false;
        backend.finish(finish_for(token, acquired->fence));
        return true;
    }
    // Runs `key` once and stores `text` for `ttl`.
    void store(const std::string& key, const std::string& text, Millis ttl) {
        auto backend = make(key);
        std::uint64_t fence = acquire(*backend, "store");
        FinishRequest finish = finish_for("store", fence);
        finish.stored_record = encode_cached_result(sample_result(text));
        finish.cache_ttl = ttl;
        ASSERT_TRUE(backend->finish(finish));
    }

    std::filesystem::path dir_;
};

// --- SPEC §4: the lock in a descriptor that the command inherits ---------------------------

TEST_F(LocalBackendTest, TheDescriptorForTheCommandIsTheLockedFileWhileHeldOnly) {
    auto backend = make("k");
    EXPECT_EQ(backend->descriptor_for_command(), -1);
    std::uint64_t fence = acquire(*backend, "t");
    int fd = backend->descriptor_for_command();
    ASSERT_GE(fd, 0);
    struct stat opened {
    }, named{};
    ASSERT_EQ(::fstat(fd, &opened), 0);
    ASSERT_EQ(::stat(file_of("k", ".lock").c_str(), &named), 0);
    EXPECT_EQ(opened.st_ino, named.st_ino);
    ASSERT_TRUE(backend->finish(finish_for("t", fence)));
    EXPECT_EQ(backend->descriptor_for_command(), -1);
}

TEST_F(LocalBackendTest, FinishFreesTheKeyAlthoughTheCommandStillHoldsItsCopy) {
    auto holder = make("k");
    std::uint64_t fence = acquire(*holder, "holder");
    // The command's leftover background process, with the descriptor it inherited.
    int copy = ::dup(holder->descriptor_for_command());
    ASSERT_GE(copy, 0);
    ASSERT_TRUE(holder->finish(finish_for("holder", fence)));
    auto next = make("k");
    EXPECT_TRUE(can_acquire(*next, "next")) << "the leftover copy kept the key locked";
    ::close(copy);
}

TEST_F(LocalBackendTest, AbandonFreesTheKeyAlthoughTheCommandStillHoldsItsCopy) {
    auto holder = make("k");
    acquire(*holder, "holder");
    int copy = ::dup(holder->descriptor_for_command());
    ASSERT_GE(copy, 0);
    holder->abandon("holder");
    auto next = make("k");
    EXPECT_TRUE(can_acquire(*next, "next"));
    ::close(copy);
}

TEST_F(LocalBackendTest, WithoutAReleaseTheCommandsCopyKeepsTheKeyLocked) {
    auto holder = make("k");
    acquire(*holder, "holder");
    int copy = ::dup(holder->descriptor_for_command());
    ASSERT_GE(copy, 0);
    holder.reset();  // lockrun's descriptor closed without finish or abandon
    auto other = make("k");
    EXPECT_FALSE(can_acquire(*other, "other"));
    ::close(copy);  // the command's last process ends
    EXPECT_TRUE(can_acquire(*other, "other"));
}

// A lockrun that is killed runs no destructor: here a child process plays lockrun, takes the
// lock, starts a "command" (a grandchild that keeps only the descriptor it was given) and
// dies at once. The key stays locked until the command ends, then is free.
TEST_F(LocalBackendTest, AKilledHoldersLockLastsUntilItsCommandsProcessesAreGone) {
    int command_alive[2];  // the grandchild holds the write end while it lives
    int command_go[2];     // closing the write end tells it to end
    ASSERT_EQ(::pipe(command_alive), 0);
    ASSERT_EQ(::pipe(command_go), 0);
    pid_t lockrun_pid = ::fork();
    ASSERT_GE(lockrun_pid, 0);
    if (lockrun_pid == 0) {
        auto backend = make("k");
        Acquisition got = backend->check_and_acquire(request_for("killed"));
        if (!std::holds_alternative<LockAcquired>(got.outcome)) ::_exit(2);
        int inherited = ::dup(backend->descriptor_for_command());
        if (inherited < 0) ::_exit(3);
        if (::fork() == 0) {
            // The command: every descriptor closed but the inherited lock and its pipes.
            for (int fd = 3; fd < 1024; ++fd) {
                if (fd != inherited && fd != command_alive[1] && fd != command_go[0]) ::close(fd);
            }
            char byte;
            while (::read(command_go[0], &byte, 1) > 0) {
            }
            ::_exit(0);
        }
        ::_exit(0);  // killed: no finish, no abandon, no destructor
    }
    ::close(command_alive[1]);
    ::close(command_go[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(lockrun_pid, &status, 0), lockrun_pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);

    auto other = make("k");
    KeyStatus held = other->read_status();
    ASSERT_TRUE(held.holder.has_value()) << "the command's descriptor should keep the lock";
    EXPECT_EQ(held.holder->holder.pid, 4242);
    EXPECT_FALSE(can_acquire(*other, "other"));

    ::close(command_go[1]);  // the command ends
    char byte;
    while (::read(command_alive[0], &byte, 1) > 0) {
    }
    ::close(command_alive[0]);
    // Its descriptors are closed as it exits, in no promised order: give the lock's a moment.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    bool acquired = false;
    while (!(acquired = can_acquire(*other, "other")) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(acquired);
}

// --- SPEC §6: fencing counters created afresh start from the clock ----------------------

TEST_F(LocalBackendTest, AFreshFenceIsTheClockInMillisecondsThenCountsUp) {
    std::uint64_t before = unix_now_ms();
    auto backend = make("k");
    std::uint64_t first = acquire(*backend, "t1");
    ASSERT_TRUE(backend->finish(finish_for("t1", first)));
    EXPECT_GE(first, before);
    EXPECT_LE(first, unix_now_ms());
    std::uint64_t second = acquire(*backend, "t2");
    ASSERT_TRUE(backend->finish(finish_for("t2", second)));
    EXPECT_EQ(second, first + 1);
}

TEST_F(LocalBackendTest, AFenceOfLockrun01CountsOnFromWhereItWas) {
    auto backend = make("k");
    std::ofstream(file_of("k", ".fence")) << "41";
    std::uint64_t fence = acquire(*backend, "t");
    ASSERT_TRUE(backend->finish(finish_for("t", fence)));
    EXPECT_EQ(fence, 42u);
}

TEST_F(LocalBackendTest, ARemovedFenceStartsAgainFromTheClockAboveTheOldTokens) {
    auto backend = make("k");
    std::uint64_t first = acquire(*backend, "t1");
    ASSERT_TRUE(backend->finish(finish_for("t1", first)));
    std::this_thread::sleep_for(2ms);
    std::filesystem::remove(file_of("k", ".fence"));
    std::uint64_t second = acquire(*backend, "t2");
    ASSERT_TRUE(backend->finish(finish_for("t2", second)));
    EXPECT_GT(second, first);
}

TEST_F(LocalBackendTest, TheFenceIsCountedInPlaceWithoutANewFile) {
    // Replaced by rename, every run made and freed an inode: 0.3 to 3.5 ms on ext4.
    auto backend = make("k");
    std::uint64_t first = acquire(*backend, "t1");
    ASSERT_TRUE(backend->finish(finish_for("t1", first)));
    struct stat before {};
    ASSERT_EQ(::stat(file_of("k", ".fence").c_str(), &before), 0);
    std::uint64_t second = acquire(*backend, "t2");
    ASSERT_TRUE(backend->finish(finish_for("t2", second)));
    struct stat after {};
    ASSERT_EQ(::stat(file_of("k", ".fence").c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(second, first + 1);
}

TEST_F(LocalBackendTest, AnUnreadableFenceStartsFromTheClockAndIsWrittenWhole) {
    // Longer than the counter that replaces it: no digit of it may stay behind.
    auto backend = make("k");
    std::ofstream(file_of("k", ".fence")) << std::string(40, '9');
    std::uint64_t fence = acquire(*backend, "t");
    ASSERT_TRUE(backend->finish(finish_for("t", fence)));
    EXPECT_LE(fence, unix_now_ms());
    EXPECT_GT(fence, unix_now_ms() - 60'000);
    std::ifstream fence_file(file_of("k", ".fence"));
    std::string text((std::istreambuf_iterator<char>(fence_file)),
                     std::istreambuf_iterator<char>());
    EXPECT_EQ(text, std::to_string(fence));
}

TEST_F(LocalBackendTest, AFifoInPlaceOfTheFenceIsAnErrorNotAHang) {
    auto backend = make("k");
    ASSERT_EQ(::mkfifo(file_of("k", ".fence").c_str(), 0600), 0);
    AcquireRequest request = request_for("t");
    EXPECT_THROW(backend->check_and_acquire(request), BackendUnavailable);
    // Nothing is held: another caller takes the key once the FIFO is gone.
    std::filesystem::remove(file_of("k", ".fence"));
    std::uint64_t fence = acquire(*make("k"), "t2");
    EXPECT_GT(fence, 0u);
}

// --- SPEC §7: list -----------------------------------------------------------------------

TEST_F(LocalBackendTest, TakingALockWritesDownItsKeyOnce) {
    auto backend = make("report:2026-11-22");
    std::uint64_t fence = acquire(*backend, "t");
    ASSERT_TRUE(backend->finish(finish_for("t", fence)));
    std::ifstream key_file(file_of("report:2026-11-22", ".key"));
    std::string key((std::istreambuf_iterator<char>(key_file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(key, "report:2026-11-22");
    auto written = std::filesystem::last_write_time(file_of("report:2026-11-22", ".key"));
    std::this_thread::sleep_for(5ms);
    fence = acquire(*backend, "t2");
    ASSERT_TRUE(backend->finish(finish_for("t2", fence)));
    EXPECT_EQ(std::filesystem::last_write_time(file_of("report:2026-11-22", ".key")), written);
}

TEST_F(LocalBackendTest, ListShowsHeldAndStoredKeysSortedAndNothingElse) {
    store("b:stored", "kept\n", Millis(60'000));
    store("d:expired", "gone\n", Millis(1));
    {
        auto ran = make("c:ran-unstored");
        std::uint64_t fence = acquire(*ran, "t");
        ASSERT_TRUE(ran->finish(finish_for("t", fence)));
    }
    auto holder = make("a:held");
    std::uint64_t held_fence = acquire(*holder, "holder");
    std::this_thread::sleep_for(5ms);  // d:expired's result runs out

    auto lister = make("");  // as `lockrun list` makes it: for no key
    std::vector<ListedKey> listed = lister->list_keys();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].key, "a:held");
    EXPECT_TRUE(listed[0].name_known);
    ASSERT_TRUE(listed[0].status.holder.has_value());
    EXPECT_EQ(listed[0].status.holder->fence, held_fence);
    EXPECT_EQ(listed[0].status.holder->holder.user, "alice");
    EXPECT_FALSE(listed[0].status.stored.has_value());
    EXPECT_EQ(listed[1].key, "b:stored");
    EXPECT_FALSE(listed[1].status.holder.has_value());
    ASSERT_TRUE(listed[1].status.stored.has_value());
    EXPECT_EQ(std::get<CachedResult>(listed[1].status.stored->record).stdout_bytes(), "kept\n");
    holder->finish(finish_for("holder", held_fence));
}

TEST_F(LocalBackendTest, ListShowsAKeyWithoutAKeyFileByItsHash) {
    store("old", "from 0.1\n", Millis(60'000));
    std::filesystem::remove(file_of("old", ".key"));  // as lockrun 0.1 left it
    store("forged", "x\n", Millis(60'000));
    std::ofstream(file_of("forged", ".key")) << "not the key whose hash names the file";

    std::vector<ListedKey> listed = make("")->list_keys();
    ASSERT_EQ(listed.size(), 2u);
    std::vector<std::string> hashes = {sha256_hex("forged"), sha256_hex("old")};
    std::sort(hashes.begin(), hashes.end());
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(listed[i].key, hashes[i]);
        EXPECT_FALSE(listed[i].name_known);
        EXPECT_TRUE(listed[i].status.stored.has_value());
    }
}

TEST_F(LocalBackendTest, ListIgnoresOtherFilesAndHalfWrittenOnes) {
    store("k", "x\n", Millis(60'000));
    std::ofstream(dir_ / "notes.txt") << "mine";
    std::ofstream(dir_ / (sha256_hex("k") + ".out.tmp.abc")) << "half written";
    std::vector<ListedKey> listed = make("")->list_keys();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].key, "k");
}

TEST_F(LocalBackendTest, ListOfAnEmptyStateDirIsEmpty) {
    EXPECT_TRUE(make("")->list_keys().empty());
}

}  // namespace
}  // namespace lockrun
