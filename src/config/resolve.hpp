#pragma once
#include "config/config_file.hpp"
#include "config/setting.hpp"

namespace lockrun {

// Every setting of setting_specs() with its effective value and origin: a flag (from
// `flags`) wins over the environment, which wins over the config file, which wins over the
// default (SPEC §2); an option of one run (!in_file()) is its flag or its default.
// Environment switches are normalised to "true"/"false"; a switch
// spelled otherwise is a ConfigError naming the variable.
SettingValues resolve_settings(const SettingValues& flags, const SettingValues& file,
                               const EnvironmentLookup& environment);

}  // namespace lockrun
