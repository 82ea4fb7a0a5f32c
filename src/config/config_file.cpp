#include "config/config_file.hpp"

#include <sys/stat.h>

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>

#include "core/errors.hpp"
#include "util/small_file.hpp"

namespace lockrun {
namespace {

bool is_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// The file that --config or LOCKRUN_CONFIG (`named_by`) names, which must be one; /dev/null,
// as for other tools, names no file: the defaults, without the usual files either.
std::optional<std::string> named_config_file(const std::string& path, const std::string& named_by) {
    if (path == "/dev/null") return std::nullopt;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw ConfigError(named_by + ": " + std::strerror(errno));
    }
    if (S_ISDIR(info.st_mode)) throw ConfigError(named_by + ": a directory, not a TOML file");
    if (!S_ISREG(info.st_mode)) throw ConfigError(named_by + ": not a regular file");
    return path;
}

std::string kind_wanted(SettingKind kind) {
    switch (kind) {
        case SettingKind::duration:
        case SettingKind::duration_or_inf:
            return "a string like \"30s\" or an integer (seconds)";
        case SettingKind::size:
            return "a string like \"16MiB\" or an integer (bytes)";
        case SettingKind::switch_:
            return "true or false";
        case SettingKind::integer:
        case SettingKind::count:
            return "an integer";
        case SettingKind::list:
            return "a string or an array of strings";
        default:
            return "a string";
    }
}

// The value as the text the command line would have given, or nullopt for a wrong type.
std::optional<std::string> value_text(const toml::node& node, SettingKind kind) {
    switch (kind) {
        case SettingKind::duration:
        case SettingKind::duration_or_inf:
        case SettingKind::size:
            if (auto text = node.value<std::string>()) return *text;
            if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
            return std::nullopt;
        case SettingKind::switch_:
            // is_boolean() first: value<bool>() would also turn an integer into a switch.
            if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
            return std::nullopt;
        case SettingKind::integer:
        case SettingKind::count:
            if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
            return std::nullopt;
        case SettingKind::list:
            if (const toml::array* array = node.as_array()) {
                std::string items;
                for (const toml::node& item : *array) {
                    auto text = item.value<std::string>();
                    if (!item.is_string() || text->find('\n') != std::string::npos)
                        return std::nullopt;
                    items += (items.empty() ? "" : "\n") + *text;
                }
                return items;
            }
            if (node.is_string() && node.value<std::string>()->find('\n') == std::string::npos) {
                return *node.value<std::string>();
            }
            return std::nullopt;
        default:
            if (node.is_string()) return *node.value<std::string>();
            return std::nullopt;
    }
}

}  // namespace

std::optional<std::string> find_config_file(const std::string& config_flag,
                                            const EnvironmentLookup& environment) {
    if (!config_flag.empty()) return named_config_file(config_flag, "--config " + config_flag);
    if (const char* named = environment("LOCKRUN_CONFIG"); named && *named) {
        return named_config_file(named, std::string("LOCKRUN_CONFIG=") + named);
    }
    std::string user_dir;
    if (const char* xdg = environment("XDG_CONFIG_HOME"); xdg && *xdg) {
        user_dir = xdg;
    } else if (const char* home = environment("HOME"); home && *home) {
        user_dir = std::string(home) + "/.config";
    }
    if (!user_dir.empty() && is_file(user_dir + "/lockrun/config.toml")) {
        return user_dir + "/lockrun/config.toml";
    }
    if (is_file("/etc/lockrun/config.toml")) return std::string("/etc/lockrun/config.toml");
    return std::nullopt;
}

SettingValues read_config_file(const std::string& path) {
    // Read whole, then parsed: toml::parse_file reads through a std::ifstream, whose set-up
    // and buffered reading cost ~65 µs of every run that has a config file (measured).
    constexpr std::size_t k_largest = 1 << 20;
    SmallFile file = read_small_file(path, k_largest);
    switch (file.problem) {
        case SmallFile::Problem::unreadable:
            throw ConfigError(path + ": cannot be read: " + std::strerror(file.error));
        case SmallFile::Problem::not_regular:
            throw ConfigError(path + ": not a regular file");
        case SmallFile::Problem::too_large:
            throw ConfigError(path + ": larger than 1 MiB, which no config file of lockrun's is");
        case SmallFile::Problem::none:
            break;
    }
    toml::table table;
    try {
        table = toml::parse(file.text, path);
    } catch (const toml::parse_error& e) {
        throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) +
                          ": not valid TOML: " + std::string(e.description()));
    }
    SettingValues values;
    for (auto&& [key, node] : table) {
        std::string where = path + ":" + std::to_string(key.source().begin.line);
        const SettingSpec* spec = find_setting(key.str());
        if (spec == nullptr || !spec->in_file()) {
            throw ConfigError(where + ": unknown key '" + std::string(key.str()) +
                              "' (keys are the long options without dashes; see lockrun config)");
        }
        std::optional<std::string> text = value_text(node, spec->kind);
        if (!text) {
            throw ConfigError(where + ": " + std::string(key.str()) + " must be " +
                              kind_wanted(spec->kind));
        }
        values[std::string(spec->name)] = {*text, SettingValue::Origin::file, where};
    }
    return values;
}

}  // namespace lockrun
