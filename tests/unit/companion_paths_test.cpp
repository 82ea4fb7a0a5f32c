#include "exec/companion_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace lockrun {
namespace {

// What companion_paths() computed with std::filesystem before it joined the paths itself.
std::vector<std::string> as_the_filesystem_library_makes_them(std::string_view program) {
    const std::filesystem::path dir = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    return {(dir / program).string(),
            (dir / LOCKRUN_COMPANION_DIR / program).lexically_normal().string()};
}

TEST(CompanionPaths, BesideThisExecutableFirstThenTheInstalledPlace) {
    CompanionPaths paths = companion_paths("lockrun-watcher");
    EXPECT_EQ(paths.error, "");
    EXPECT_EQ(paths.candidates, as_the_filesystem_library_makes_them("lockrun-watcher"));
    ASSERT_EQ(paths.candidates.size(), 2u);
    EXPECT_EQ(paths.candidates[0].find("/../"), std::string::npos);
    EXPECT_EQ(paths.candidates[1].find("/../"), std::string::npos);
    EXPECT_TRUE(paths.candidates[1].ends_with("/lockrun/lockrun-watcher")) << paths.candidates[1];
}

}  // namespace
}  // namespace lockrun
