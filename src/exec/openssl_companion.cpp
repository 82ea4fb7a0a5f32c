#include "exec/openssl_companion.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace lockrun {
namespace {

constexpr const char* k_companion = "lockrun-openssl";

}  // namespace

void become_openssl_companion(const char* const* argv, const std::string& use) {
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) {
        throw ConfigError(use +
                          " needs lockrun-openssl, and lockrun cannot find its own "
                          "executable to look for it beside it: " +
                          error.message());
    }
    const std::filesystem::path dir = self.parent_path();
    const std::vector<std::filesystem::path> candidates = {
        dir / k_companion, (dir / LOCKRUN_COMPANION_DIR / k_companion).lexically_normal()};
    std::string tried;
    for (const std::filesystem::path& candidate : candidates) {
        // Environment and open descriptors pass through exec as they are.
        ::execv(candidate.c_str(), const_cast<char* const*>(argv));
        if (!tried.empty()) tried += ", ";
        tried += candidate.string() + " (" + std::strerror(errno) + ")";
    }
    throw ConfigError(use +
                      " needs lockrun-openssl, which is installed with lockrun, and it could "
                      "not be run (reinstall lockrun): " +
                      tried);
}

}  // namespace lockrun
