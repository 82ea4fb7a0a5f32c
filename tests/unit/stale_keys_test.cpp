// The sweep of unused keys (SPEC §6, backend/local/stale_keys.hpp): a week unused and no
// live result: gone; anything in use, held or still cached: kept; never through a symlink;
// and a caller that had the old lock file open ends up locking the new one.

#include "backend/local/stale_keys.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/local/local_backend.hpp"
#include "local_backend_requests.hpp"
#include "util/digest.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

using local_test::finish_for;
using local_test::request_for;
using local_test::unix_now_ms;

class StaleKeysTest : public ::testing::Test {
protected:
    StaleKeysTest()
        : path_(std::filesystem::temp_directory_path() / ("lockrun-stale-" + random_token())),
          lister_(path_.string(), "", nullptr),  // creates the dir
          dir_(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
    ~StaleKeysTest() override {
        ::close(dir_);
        std::filesystem::remove_all(path_);
    }

    std::unique_ptr<LocalBackend> make(const std::string& key) {
        return std::make_unique<LocalBackend>(path_.string(), key, nullptr);
    }
    std::filesystem::path file_of(const std::string& key, const std::string& suffix) const {
        return path_ / (sha256_hex(key) + suffix);
    }
    // One run of `key` that stores its result for `ttl` (nothing with 0).
    void run(const std::string& key, Millis ttl = Millis(0)) {
        auto backend = make(key);
        Acquisition got = backend->check_and_acquire(request_for("run"));
        auto fence = std::get<LockAcquired>(got.outcome).fence;
        FinishRequest finish = finish_for("run", fence);
        if (ttl > Millis(0)) {
            finish.stored_record =
                encode_cached_result({0, 1, 1, "host-a", {{OutputStream::stdout_stream, "x"}}});
            finish.cache_ttl = ttl;
        }
        ASSERT_TRUE(backend->finish(finish));
    }
    // Sets the modification time of `name` (never through a symlink) to `days` ago.
    void age(const std::string& name, int days) {
        struct timespec times[2];
        times[0].tv_sec = ::time(nullptr) - days * 24 * 3600;
        times[0].tv_nsec = 0;
        times[1] = times[0];
        ASSERT_EQ(::utimensat(dir_, name.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << name;
    }
    // Ages every file of `key` that exists.
    void age_key(const std::string& key, int days) {
        for (const char* suffix : {".lock", ".fence", ".out", ".last", ".key"}) {
            if (std::filesystem::exists(std::filesystem::symlink_status(file_of(key, suffix)))) {
                age(sha256_hex(key) + suffix, days);
            }
        }
    }
    bool has_files(const std::string& key) const {
        for (const auto& entry : std::filesystem::directory_iterator(path_)) {
            if (entry.path().filename().string().starts_with(sha256_hex(key))) return true;
        }
        return false;
    }

    std::filesystem::path path_;
    LocalBackend lister_;
    int dir_;
};

TEST_F(StaleKeysTest, AKeyUnusedForAWeekIsRemovedWholeAndARecentOneKept) {
    run("old");
    run("recent");
    ASSERT_TRUE(std::filesystem::exists(file_of("old", ".key")));
    age_key("old", 8);
    age_key("recent", 6);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 1u);
    EXPECT_FALSE(has_files("old"));
    EXPECT_TRUE(std::filesystem::exists(file_of("recent", ".lock")));
    EXPECT_TRUE(std::filesystem::exists(file_of("recent", ".fence")));
}

TEST_F(StaleKeysTest, AnUnexpiredResultKeepsItsKey) {
    run("cached", Millis(30LL * 24 * 3600 * 1000));
    age_key("cached", 8);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 0u);
    EXPECT_TRUE(std::filesystem::exists(file_of("cached", ".out")));
    EXPECT_TRUE(make("cached")->read_status().stored.has_value());
}

TEST_F(StaleKeysTest, AnExpiredResultGoesWithItsKey) {
    run("expired", Millis(1));
    std::this_thread::sleep_for(5ms);
    age_key("expired", 8);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 1u);
    EXPECT_FALSE(has_files("expired"));
}

TEST_F(StaleKeysTest, AHeldLockIsNotRemovedHoweverOld) {
    auto holder = make("held");
    auto fence = std::get<LockAcquired>(holder->check_and_acquire(request_for("h")).outcome).fence;
    age_key("held", 30);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 0u);
    EXPECT_TRUE(std::filesystem::exists(file_of("held", ".lock")));
    EXPECT_TRUE(std::filesystem::exists(file_of("held", ".fence")));
    EXPECT_TRUE(holder->finish(finish_for("h", fence))) << "the holder still has its lock";
}

TEST_F(StaleKeysTest, AKeyWhoseLockFileWasForcedAwayIsRemovedToo) {
    run("forced", Millis(1));
    EXPECT_FALSE(make("forced")->force_release());  // removes the lock file, keeps the rest
    ASSERT_FALSE(std::filesystem::exists(file_of("forced", ".lock")));
    std::this_thread::sleep_for(5ms);
    age_key("forced", 8);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 1u);
    EXPECT_FALSE(has_files("forced"));
}

TEST_F(StaleKeysTest, OldTemporaryFilesAreRemovedRecentOnesKept) {
    std::string base = sha256_hex("k");
    std::ofstream(path_ / (base + ".out.tmp.old")) << "left by a crash";
    std::ofstream(path_ / (base + ".out.tmp.new")) << "being written";
    age(base + ".out.tmp.old", 8);
    sweep_unused_keys(dir_, unix_now_ms());
    EXPECT_FALSE(std::filesystem::exists(path_ / (base + ".out.tmp.old")));
    EXPECT_TRUE(std::filesystem::exists(path_ / (base + ".out.tmp.new")));
}

TEST_F(StaleKeysTest, FilesOfNoKeyAreLeftAlone) {
    std::ofstream(path_ / "notes.txt") << "mine";
    age("notes.txt", 30);
    EXPECT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 0u);
    EXPECT_TRUE(std::filesystem::exists(path_ / "notes.txt"));
}

TEST_F(StaleKeysTest, ASymlinkInPlaceOfALockFileIsNotFollowed) {
    auto outside = path_.parent_path() / ("lockrun-stale-victim-" + random_token());
    std::ofstream(outside) << "not a lock file";
    std::filesystem::create_symlink(outside, file_of("linked", ".lock"));
    std::ofstream(file_of("linked", ".fence")) << "7";
    age_key("linked", 8);
    sweep_unused_keys(dir_, unix_now_ms());
    EXPECT_TRUE(std::filesystem::exists(outside));
    std::ifstream in(outside);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "not a lock file");
    std::filesystem::remove(outside);
}

// The race that the sweep must survive: a caller opened the old lock file (here: it found
// the key held and kept the file open), then the key was swept away. When it locks, it must
// lock the file now at the name, so that it still excludes everyone else.
TEST_F(StaleKeysTest, ACallerThatOpenedTheOldLockFileLocksTheNewOne) {
    auto holder = make("k");
    auto caller = make("k");
    auto old_fence =
        std::get<LockAcquired>(holder->check_and_acquire(request_for("h")).outcome).fence;
    ASSERT_TRUE(
        std::holds_alternative<LockHeld>(caller->check_and_acquire(request_for("c")).outcome));
    ASSERT_TRUE(holder->finish(finish_for("h", old_fence)));
    age_key("k", 8);
    ASSERT_EQ(sweep_unused_keys(dir_, unix_now_ms()), 1u);
    std::this_thread::sleep_for(2ms);  // a real sweep comes a week after the last fence

    Acquisition got = caller->check_and_acquire(request_for("c"));
    ASSERT_TRUE(std::holds_alternative<LockAcquired>(got.outcome));
    EXPECT_GT(std::get<LockAcquired>(got.outcome).fence, old_fence) << "from the clock";
    auto third = make("k");
    EXPECT_TRUE(
        std::holds_alternative<LockHeld>(third->check_and_acquire(request_for("t")).outcome))
        << "the caller locked a file that is no longer the key's lock";
    EXPECT_TRUE(caller->finish(finish_for("c", std::get<LockAcquired>(got.outcome).fence)));
}

TEST_F(StaleKeysTest, SweepIfDueSweepsAtMostOnceADay) {
    run("old");
    age_key("old", 8);
    // Never swept here (run() made the marker: age it away first).
    std::filesystem::remove(path_ / k_sweep_marker);
    EXPECT_EQ(sweep_if_due(dir_, unix_now_ms()), 1u);
    EXPECT_FALSE(has_files("old"));
    ASSERT_TRUE(std::filesystem::exists(path_ / k_sweep_marker));

    // Swept less than a day ago: not again.
    run("old");
    age_key("old", 8);
    age(k_sweep_marker, 0);
    EXPECT_EQ(sweep_if_due(dir_, unix_now_ms()), 0u);
    EXPECT_TRUE(has_files("old"));

    // A day later it is due, and marked again.
    age(k_sweep_marker, 2);
    std::uint64_t now = unix_now_ms();
    EXPECT_EQ(sweep_if_due(dir_, now), 1u);
    EXPECT_FALSE(has_files("old"));
    struct stat marker {};
    ASSERT_EQ(::fstatat(dir_, k_sweep_marker, &marker, 0), 0);
    EXPECT_GE(static_cast<std::uint64_t>(marker.st_mtim.tv_sec) * 1000 + 1000, now);
}

TEST_F(StaleKeysTest, AFinishedRunSweepsWhenDue) {
    run("old");
    age_key("old", 8);
    age(k_sweep_marker, 8);
    run("other");
    EXPECT_FALSE(has_files("old"));
    EXPECT_TRUE(has_files("other"));
}

}  // namespace
}  // namespace lockrun
