#pragma once
// One configurable value as it was found (SPEC §2 precedence: flags > LOCKRUN_*
// environment > config file > defaults), with where it came from, for `lockrun config`
// and for error messages that point at the place to fix.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

enum class SettingKind {
    duration,
    duration_or_inf,
    size,
    text,
    secret_url,
    path,
    switch_,
    integer,
    choice
};

struct SettingSpec {
    std::string_view name;  // the long option without dashes; also the config file's key
    SettingKind kind;
    std::string_view default_text;
    bool in_file = true;  // options of one run (--key, --refresh, -c, --config) are not
    std::vector<std::string_view> choices = {};
};

// Every setting that may come from the environment or a config file, in the order
// `lockrun config` prints them.
const std::vector<SettingSpec>& setting_specs();
const SettingSpec* find_setting(std::string_view name);

// LOCKRUN_ + the name in upper snake case; --redis is LOCKRUN_REDIS_URL (SPEC §2).
std::string environment_name(std::string_view setting_name);

struct SettingValue {
    std::string text;  // normalised: switches are "true"/"false"
    enum class Origin { default_value, file, environment, flag } origin = Origin::default_value;
    std::string where;  // "LOCKRUN_LEASE", "/etc/lockrun/config.toml:3", "--lease"
};

using SettingValues = std::map<std::string, SettingValue, std::less<>>;

}  // namespace lockrun
