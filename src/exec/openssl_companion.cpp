#include "exec/openssl_companion.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"
#include "exec/companion_paths.hpp"

namespace lockrun {

void become_openssl_companion(const char* const* argv, const std::string& use) {
    const CompanionPaths paths = companion_paths("lockrun-openssl");
    if (paths.candidates.empty()) {
        throw ConfigError(use +
                          " needs lockrun-openssl, and lockrun cannot find its own "
                          "executable to look for it beside it: " +
                          paths.error);
    }
    std::string tried;
    for (const std::string& candidate : paths.candidates) {
        // Environment and open descriptors pass through exec as they are.
        ::execv(candidate.c_str(), const_cast<char* const*>(argv));
        if (!tried.empty()) tried += ", ";
        tried += candidate + " (" + std::strerror(errno) + ")";
    }
    throw ConfigError(use +
                      " needs lockrun-openssl, which is installed with lockrun, and it could "
                      "not be run (reinstall lockrun): " +
                      tried);
}

}  // namespace lockrun
