#include "cli/shared_paths.hpp"

#include <algorithm>
#include <string_view>

#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string normalised(const std::string& given) {
    if (given.empty()) throw UsageError("--files needs a path, not an empty string");
    if (given.front() == '/') {
        throw UsageError("--files " + given +
                         ": give a path relative to the working directory (each caller "
                         "extracts it into its own)");
    }
    std::string path;
    for (std::string_view rest = given; !rest.empty();) {
        std::size_t slash = std::min(rest.find('/'), rest.size());
        std::string_view part = rest.substr(0, slash);
        rest.remove_prefix(std::min(slash + 1, rest.size()));
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            throw UsageError("--files " + given +
                             ": must stay inside the working directory (no ..)");
        }
        if (!path.empty()) path += '/';
        path += part;
    }
    if (path.empty()) {
        throw UsageError("--files " + given +
                         ": name the files or directories in the working directory, not the "
                         "directory itself");
    }
    return path;
}

}  // namespace

std::vector<std::string> shared_paths(const std::vector<std::string>& given) {
    std::vector<std::string> paths;
    for (const std::string& path : given) paths.push_back(normalised(path));
    std::ranges::sort(paths);
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    // Sorted, a path inside another comes right after it or after paths inside it too.
    for (std::size_t i = 1; i < paths.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (paths[i].starts_with(paths[j] + "/")) {
                throw UsageError("--files " + paths[i] + " is inside --files " + paths[j] +
                                 ": give only " + paths[j]);
            }
        }
    }
    return paths;
}

}  // namespace lockrun
