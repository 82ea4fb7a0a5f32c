#include "cli/shared_paths.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.hpp"

namespace lockrun {
namespace {

using Paths = std::vector<std::string>;

std::string refusal(const Paths& given) {
    try {
        shared_paths(given);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(SharedPaths, AreNormalisedDeduplicatedAndSorted) {
    EXPECT_EQ(shared_paths({"./dist/", "build//out", "dist", "a.txt"}),
              (Paths{"a.txt", "build/out", "dist"}));
}

TEST(SharedPaths, ASiblingWithTheSamePrefixIsNotInside) {
    EXPECT_EQ(shared_paths({"dist", "dist-extra", "dist.txt"}),
              (Paths{"dist", "dist-extra", "dist.txt"}));
}

TEST(SharedPaths, RefusesWhatCannotBeExtractedIntoEveryCallersDirectory) {
    EXPECT_EQ(refusal({"/etc"}),
              "--files /etc: give a path relative to the working directory (each caller "
              "extracts it into its own)");
    EXPECT_EQ(refusal({"../x"}), "--files ../x: must stay inside the working directory (no ..)");
    EXPECT_EQ(refusal({"a/../../x"}),
              "--files a/../../x: must stay inside the working directory (no ..)");
    EXPECT_EQ(refusal({"a/.."}), "--files a/..: must stay inside the working directory (no ..)");
    EXPECT_EQ(refusal({"./"}),
              "--files ./: name the files or directories in the working directory, not the "
              "directory itself");
    EXPECT_EQ(refusal({""}), "--files needs a path, not an empty string");
}

TEST(SharedPaths, RefusesAPathInsideAnother) {
    EXPECT_EQ(refusal({"dist/lib", "dist"}),
              "--files dist/lib is inside --files dist: give only dist");
    EXPECT_EQ(refusal({"dist", "dist-x", "dist/a/b"}),
              "--files dist/a/b is inside --files dist: give only dist");
}

}  // namespace
}  // namespace lockrun
