#include "config/resolve.hpp"

#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string switch_text(const std::string& variable, std::string_view value) {
    if (value == "1" || value == "true" || value == "yes") return "true";
    if (value == "0" || value == "false" || value == "no" || value.empty()) return "false";
    throw ConfigError(variable + "='" + std::string(value) +
                      "': a switch takes 1/true/yes or 0/false/no");
}

}  // namespace

SettingValues resolve_settings(const SettingValues& flags, const SettingValues& file,
                               const EnvironmentLookup& environment) {
    SettingValues resolved;
    for (const SettingSpec& spec : setting_specs()) {
        std::string name(spec.name);
        if (auto flag = flags.find(name); flag != flags.end()) {
            resolved[name] = flag->second;
            continue;
        }
        std::string variable = environment_name(spec.name);
        if (const char* value = environment(variable.c_str())) {
            std::string text =
                spec.kind == SettingKind::switch_ ? switch_text(variable, value) : value;
            resolved[name] = {text, SettingValue::Origin::environment, variable};
            continue;
        }
        if (auto in_file = file.find(name); in_file != file.end()) {
            resolved[name] = in_file->second;
            continue;
        }
        resolved[name] = {std::string(spec.default_text), SettingValue::Origin::default_value, ""};
    }
    return resolved;
}

}  // namespace lockrun
