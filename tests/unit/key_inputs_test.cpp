#include "cli/key_inputs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "core/errors.hpp"

namespace lockrun {
namespace {

// A directory of files for one test, removed after it; the process works inside it.
class KeyInputsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/key_inputs_test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        char previous[4096];
        ASSERT_NE(::getcwd(previous, sizeof previous), nullptr);
        previous_ = previous;
        ASSERT_EQ(::chdir(dir_.c_str()), 0);
    }
    void TearDown() override {
        ASSERT_EQ(::chdir(previous_.c_str()), 0);
        std::system(("rm -rf " + dir_).c_str());
    }
    static void write(const std::string& path, const std::string& bytes) {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    std::string suffix(const KeyInputs& inputs) const {
        return key_inputs_suffix(inputs, [this](const char* name) -> const char* {
            auto found = environment_.find(name);
            return found == environment_.end() ? nullptr : found->second.c_str();
        });
    }

    std::string dir_;
    std::string previous_;
    std::map<std::string, std::string> environment_;
};

// What is hashed is part of every key with inputs: the same inputs must give the same key
// in every version and on every host. The value was computed by an independent
// implementation of the format that key_inputs.hpp describes.
TEST_F(KeyInputsTest, TheDigestOfKnownInputsNeverChanges) {
    ASSERT_EQ(::mkdir("tree", 0755), 0);
    ASSERT_EQ(::mkdir("tree/sub", 0755), 0);
    write("tree/a", "hello\n");
    write("tree/sub/b", "x");
    ASSERT_EQ(::symlink("../a", "tree/sub/link"), 0);
    write("lock.json", "lock\n");
    environment_["TARGET"] = "x86";
    KeyInputs inputs{{"lock.json", "tree"}, {"TARGET", "UNSET_ONE"}, false};
    EXPECT_EQ(suffix(inputs), ":in-05c61aba9a73ea5c4eca6e3eebac9341");
}

TEST_F(KeyInputsTest, UnsetEmptyAndSetVariablesDiffer) {
    KeyInputs inputs{{}, {"V"}, false};
    const std::string unset = suffix(inputs);
    environment_["V"] = "";
    const std::string empty = suffix(inputs);
    environment_["V"] = "1";
    const std::string set = suffix(inputs);
    EXPECT_NE(unset, empty);
    EXPECT_NE(empty, set);
    EXPECT_NE(unset, set);
}

TEST_F(KeyInputsTest, FieldsCannotRunIntoEachOther) {
    // Two files "ab" + "c" and "a" + "bc" hash apart, as do a file and a directory holding it.
    write("f1", "ab");
    write("f2", "c");
    write("g1", "a");
    write("g2", "bc");
    EXPECT_NE(suffix({{"f1", "f2"}, {}, false}), suffix({{"g1", "g2"}, {}, false}));
    ASSERT_EQ(::mkdir("d", 0755), 0);
    write("d/f1", "ab");
    EXPECT_NE(suffix({{"f1"}, {}, false}), suffix({{"d"}, {}, false}));
}

TEST_F(KeyInputsTest, TheWorkingDirectoryCounts) {
    const std::string here = suffix({{}, {}, true});
    ASSERT_EQ(::mkdir("elsewhere", 0755), 0);
    ASSERT_EQ(::chdir("elsewhere"), 0);
    EXPECT_NE(suffix({{}, {}, true}), here);
    EXPECT_EQ(suffix({{}, {}, true}).size(), std::string(":in-").size() + 32);
}

TEST_F(KeyInputsTest, AMissingFileIsAUsageErrorNamingIt) {
    try {
        suffix({{"nope.json"}, {}, false});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "--key-file nope.json: No such file or directory");
    }
}

}  // namespace
}  // namespace lockrun
