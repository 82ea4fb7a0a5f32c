#include "exec/companion_paths.hpp"

#include <filesystem>

namespace lockrun {

CompanionPaths companion_paths(std::string_view program) {
    CompanionPaths paths;
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        paths.error = error.message();
        return paths;
    }
    const std::filesystem::path dir = self.parent_path();
    paths.candidates = {(dir / program).string(),
                        (dir / LOCKRUN_COMPANION_DIR / program).lexically_normal().string()};
    return paths;
}

}  // namespace lockrun
