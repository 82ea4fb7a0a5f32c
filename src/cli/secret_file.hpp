#pragma once
#include <string>

namespace lockrun {

// The contents of a file that holds one secret (a password), without the line end an
// editor adds. Throws ConfigError (78) naming `option` and the path, never the contents.
std::string read_secret_file(const std::string& path, const std::string& option);

}  // namespace lockrun
