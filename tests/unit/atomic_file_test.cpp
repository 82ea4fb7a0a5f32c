#include "util/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

class ReplaceFile : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/atomic_file_test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        path_ = pattern;
        dir_.reset(::open(pattern, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(dir_.valid());
    }
    void TearDown() override { std::system(("rm -rf " + path_).c_str()); }

    std::string contents(const std::string& name) const {
        std::ifstream in(path_ + "/" + name, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        return bytes.str();
    }
    std::vector<std::string> names() const {
        std::vector<std::string> found;
        DIR* dir = ::opendir(path_.c_str());
        while (dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.') found.emplace_back(entry->d_name);
        }
        ::closedir(dir);
        return found;
    }

    std::string path_;
    UniqueFd dir_;
};

TEST_F(ReplaceFile, CreatesAndThenReplacesTheFileWithItsMode) {
    replace_file(dir_.get(), "state", std::string("one\0", 4), 0600);
    EXPECT_EQ(contents("state"), std::string("one\0", 4));
    replace_file(dir_.get(), "state", "two", 0600);
    EXPECT_EQ(contents("state"), "two");
    struct stat info {};
    ASSERT_EQ(::stat((path_ + "/state").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(names(), std::vector<std::string>{"state"});
}

TEST_F(ReplaceFile, WorksOnAPathFromTheCurrentDirectory) {
    replace_file(AT_FDCWD, path_ + "/metrics.prom", "x 1\n", 0644);
    EXPECT_EQ(contents("metrics.prom"), "x 1\n");
}

TEST_F(ReplaceFile, SaysWhichStepFailedAndLeavesNoTemporaryFile) {
    ASSERT_EQ(::mkdirat(dir_.get(), "taken", 0700), 0);
    ASSERT_EQ(::mkdirat(dir_.get(), "taken/full", 0700), 0);
    try {
        replace_file(dir_.get(), "taken", "bytes", 0600);
        FAIL() << "a directory cannot be replaced by a file";
    } catch (const std::system_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("rename into place taken: ", 0), 0u) << e.what();
    }
    EXPECT_EQ(names(), std::vector<std::string>{"taken"});
}

TEST_F(ReplaceFile, SaysWhenTheTemporaryFileCannotBeCreated) {
    try {
        replace_file(dir_.get(), "missing/state", "bytes", 0600);
        FAIL() << "there is no directory to create the file in";
    } catch (const std::system_error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("create missing/state.tmp.", 0), 0u) << e.what();
        EXPECT_EQ(e.code().value(), ENOENT);
    }
}

}  // namespace
}  // namespace lockrun
