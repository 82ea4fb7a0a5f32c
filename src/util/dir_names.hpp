#pragma once
// The names in a directory, for the code that walks one by descriptor (the state dir, the
// staging directory of --files).

#include <optional>
#include <string>
#include <vector>

namespace lockrun {

// Every name in the directory but "." and "..", read through a descriptor of its own so
// that dir_fd's offset is untouched, and whole before any of them is moved or removed.
// nullopt when it cannot be read, errno saying why.
std::optional<std::vector<std::string>> names_in_dir(int dir_fd);

}  // namespace lockrun
