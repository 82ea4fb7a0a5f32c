#include "cli/show_config.hpp"

#include <algorithm>
#include <iostream>

#include "backend/local/state_dir.hpp"
#include "backend/redis/redis_url.hpp"
#include "core/errors.hpp"
#include "util/json.hpp"

namespace lockrun {
namespace {

std::string origin_text(const SettingValue& value) {
    switch (value.origin) {
        case SettingValue::Origin::flag:
            return "flag " + value.where;
        case SettingValue::Origin::environment:
            return "environment " + value.where;
        case SettingValue::Origin::file:
            return "file " + value.where;
        default:
            return "default";
    }
}

// A URL is shown without its password; one that does not parse is not shown at all.
std::string shown_url(const std::string& url) {
    if (url.empty()) return url;
    try {
        return parse_redis_url(url).redacted();
    } catch (const ConfigError&) {
        return "(not a valid URL)";
    }
}

std::string toml_value(const SettingSpec& spec, const std::string& text) {
    switch (spec.kind) {
        case SettingKind::switch_:
        case SettingKind::integer:
        case SettingKind::count:
            return text;
        case SettingKind::secret_url:
            return json_string(shown_url(text));
        default:
            return json_string(text);
    }
}

// The settings that the file and the environment may set, in the order they are listed.
std::vector<const SettingSpec*> listed_settings() {
    std::vector<const SettingSpec*> listed;
    for (const SettingSpec& spec : setting_specs()) {
        if (spec.in_file()) listed.push_back(&spec);
    }
    std::ranges::sort(listed, {}, &SettingSpec::config_line);
    return listed;
}

}  // namespace

int show_config(const Invocation& invocation) {
    std::cout << "# config file: " << invocation.config_file.value_or("none") << "\n";
    for (const SettingSpec* listed : listed_settings()) {
        const SettingSpec& spec = *listed;
        const SettingValue& value = invocation.settings.at(std::string(spec.name));
        std::string text = value.text;
        // Defaults that depend on the environment are shown as they resolve here.
        if (spec.name == "state-dir" && text.empty()) text = default_state_dir();
        if (spec.name == "backend" && text.empty()) {
            text = invocation.options.redis_url.empty() ? "local" : "redis";
        }
        std::string line = std::string(spec.name) + " = " + toml_value(spec, text);
        if (line.size() < 40) line.resize(40, ' ');
        std::cout << line << " # " << origin_text(value) << "\n";
    }
    std::cout << "# redis password: "
              << (std::getenv("LOCKRUN_REDIS_PASSWORD") ? "set in LOCKRUN_REDIS_PASSWORD (hidden)"
                                                        : "not in the environment")
              << "\n"
              << std::flush;
    return 0;
}

}  // namespace lockrun
