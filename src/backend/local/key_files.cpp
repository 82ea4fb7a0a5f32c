#include "backend/local/key_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "util/dir_names.hpp"

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
    auto names = names_in_dir(dir_fd);
    if (!names) {
        throw BackendUnavailable(std::string("local state: cannot read the state dir: ") +
                                 std::strerror(errno));
    }
    return std::move(*names);
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
