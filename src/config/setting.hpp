#pragma once
// The one declaration of every option (SPEC §2): its spelling on the command line, its
// help, its default, whether the environment and the config file may set it, and how its
// value lands in Options. The flag registration, the precedence (flags > LOCKRUN_*
// environment > config file > defaults), `lockrun config` and the conversion into Options
// are loops over this table, so adding an option means adding a row.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

struct Options;
class SettingReader;

enum class SettingKind {
    duration,
    duration_or_inf,
    size,
    text,
    secret_url,
    path,
    switch_,  // a flag without a value; one that defaults to true also gets --no-NAME
    integer,
    count,  // an integer that its flag raises once per use (-vv)
    choice,
    // Repeatable: each use of the flag adds an item; LOCKRUN_* separates items by commas,
    // the config file takes an array of strings. The text holds them one per line.
    list
};

struct SettingSpec {
    std::string_view name;  // the long option without dashes; also the config file's key
    char short_flag;        // '\0': none
    SettingKind kind;
    std::string_view metavar;  // what --help shows for the value; a choice shows its choices
    std::string_view default_text;
    std::string_view help;
    // Converts and checks the value into Options; null where the command line's own steps
    // read it (-c, --config) or combine it with another (--quiet with --verbose).
    void (*apply)(const SettingReader& value, Options& options);
    // Where `lockrun config` lists it, from 1. 0: an option of one run (--key, -c,
    // --refresh, --config): a flag only, with no LOCKRUN_* variable or config key.
    int config_line;
    std::vector<std::string_view> choices = {};

    // Whether the environment and the config file may set it: what `lockrun config` lists.
    bool in_file() const { return config_line != 0; }
};

// Every option of the table, in the order --help shows them.
const std::vector<SettingSpec>& setting_specs();
const SettingSpec* find_setting(std::string_view name);

// LOCKRUN_ + the name in upper snake case; --redis is LOCKRUN_REDIS_URL (SPEC §2).
std::string environment_name(std::string_view setting_name);

// One value as it was found, with where it came from, for `lockrun config` and for error
// messages that point at the place to fix.
struct SettingValue {
    std::string text;  // normalised: switches are "true"/"false"
    enum class Origin { default_value, file, environment, flag } origin = Origin::default_value;
    std::string where;  // "LOCKRUN_LEASE", "/etc/lockrun/config.toml:3", "--lease"
};

using SettingValues = std::map<std::string, SettingValue, std::less<>>;

}  // namespace lockrun
