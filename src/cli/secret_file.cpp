#include "cli/secret_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace lockrun {

std::string read_secret_file(const std::string& path, const std::string& option) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw ConfigError("cannot read " + option + " " + path + ": " + std::strerror(errno));
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    std::string secret = contents.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) throw ConfigError(option + " " + path + " is empty");
    return secret;
}

}  // namespace lockrun
