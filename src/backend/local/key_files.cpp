#include "backend/local/key_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/errors.hpp"

namespace lockrun {
namespace {

constexpr std::size_t k_base_length = 64;  // hex SHA-256
constexpr std::string_view k_temporary_infix = ".tmp.";

bool is_lowercase_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::optional<KeyFileName> parse_key_file_name(std::string_view name) {
    if (name.size() <= k_base_length || !is_lowercase_hex(name.substr(0, k_base_length))) {
        return std::nullopt;
    }
    std::string_view rest = name.substr(k_base_length);
    for (std::string_view suffix : k_key_file_suffixes) {
        if (!rest.starts_with(suffix)) continue;
        std::string_view after = rest.substr(suffix.size());
        if (after.empty()) return KeyFileName{std::string(name.substr(0, k_base_length)), suffix};
        if (after.starts_with(k_temporary_infix) && after.size() > k_temporary_infix.size()) {
            return KeyFileName{std::string(name.substr(0, k_base_length)), suffix, true};
        }
    }
    return std::nullopt;
}

std::vector<std::string> names_in(int dir_fd) {
    // fdopendir() takes the descriptor it is given and reads from its offset: give it one
    // of its own.
    int own = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) {
        throw BackendUnavailable(std::string("local state: cannot read the state dir: ") +
                                 std::strerror(errno));
    }
    DIR* dir = ::fdopendir(own);
    if (dir == nullptr) {
        int error = errno;
        ::close(own);
        throw BackendUnavailable(std::string("local state: cannot read the state dir: ") +
                                 std::strerror(error));
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
        errno = 0;
    }
    int error = errno;
    ::closedir(dir);
    if (error != 0) {
        throw BackendUnavailable(std::string("local state: cannot read the state dir: ") +
                                 std::strerror(error));
    }
    return names;
}

std::vector<std::string> key_bases_in(int dir_fd) {
    std::vector<std::string> bases;
    for (const std::string& name : names_in(dir_fd)) {
        auto parsed = parse_key_file_name(name);
        if (parsed && !parsed->temporary) bases.push_back(std::move(parsed->base));
    }
    std::sort(bases.begin(), bases.end());
    bases.erase(std::unique(bases.begin(), bases.end()), bases.end());
    return bases;
}

}  // namespace lockrun
