#pragma once
// The TOML config file (SPEC §2): top-level keys named like the long options without
// dashes; durations and sizes as strings or integers (seconds, bytes), switches as
// booleans. Any problem is a ConfigError (78) naming the file, line and key.

#include <functional>
#include <optional>
#include <string>

#include "config/setting.hpp"

namespace lockrun {

using EnvironmentLookup = std::function<const char*(const char*)>;

// Which file to read: --config, else $LOCKRUN_CONFIG (both must name a file; /dev/null names
// none, and then the next two are not read either), else
// $XDG_CONFIG_HOME/lockrun/config.toml (XDG_CONFIG_HOME defaulting to ~/.config), else
// /etc/lockrun/config.toml, the last two only if they exist. nullopt: no file.
std::optional<std::string> find_config_file(const std::string& config_flag,
                                            const EnvironmentLookup& environment);

// The file's settings, each with origin file and "PATH:LINE" as where.
SettingValues read_config_file(const std::string& path);

}  // namespace lockrun
