#include "cli/secret_file.hpp"

#include <cstring>

#include "core/errors.hpp"
#include "util/small_file.hpp"

namespace lockrun {

std::string read_secret_file(const std::string& path, const std::string& option) {
    SmallFile file = read_small_file(path, 64 * 1024);
    switch (file.problem) {
        case SmallFile::Problem::unreadable:
            throw ConfigError("cannot read " + option + " " + path + ": " +
                              std::strerror(file.error));
        case SmallFile::Problem::not_regular:
            throw ConfigError(option + " " + path + " is not a regular file");
        case SmallFile::Problem::too_large:
            throw ConfigError(option + " " + path + " is too large to hold a password");
        case SmallFile::Problem::none:
            break;
    }
    std::string secret = std::move(file.text);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) throw ConfigError(option + " " + path + " is empty");
    return secret;
}

}  // namespace lockrun
