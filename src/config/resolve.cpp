#include "config/resolve.hpp"

#include <algorithm>

#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string switch_text(const std::string& variable, std::string_view value) {
    if (value == "1" || value == "true" || value == "yes") return "true";
    if (value == "0" || value == "false" || value == "no" || value.empty()) return "false";
    throw ConfigError(variable + "='" + std::string(value) +
                      "': a switch takes 1/true/yes or 0/false/no");
}

// The one value of `spec` that the precedence picks.
SettingValue resolve(const SettingSpec& spec, const SettingValues& flags, const SettingValues& file,
                     const EnvironmentLookup& environment) {
    if (auto flag = flags.find(spec.name); flag != flags.end()) return flag->second;
    if (spec.in_file()) {
        std::string variable = environment_name(spec.name);
        if (const char* value = environment(variable.c_str())) {
            std::string text =
                spec.kind == SettingKind::switch_ ? switch_text(variable, value) : value;
            if (spec.kind == SettingKind::list) std::ranges::replace(text, ',', '\n');
            return {text, SettingValue::Origin::environment, variable};
        }
        if (auto in_file = file.find(spec.name); in_file != file.end()) return in_file->second;
    }
    return {std::string(spec.default_text), SettingValue::Origin::default_value, ""};
}

}  // namespace

SettingValues resolve_settings(const SettingValues& flags, const SettingValues& file,
                               const EnvironmentLookup& environment) {
    SettingValues resolved;
    for (const SettingSpec& spec : setting_specs()) {
        resolved[std::string(spec.name)] = resolve(spec, flags, file, environment);
    }
    return resolved;
}

}  // namespace lockrun
