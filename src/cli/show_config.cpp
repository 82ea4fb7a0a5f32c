#include "cli/show_config.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "backend/local/state_dir.hpp"
#include "backend/redis/redis_url.hpp"
#include "cli/standard_output.hpp"
#include "config/setting_reader.hpp"
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

// An integer as JSON and TOML write one: the setting's check takes "075", they do not.
std::string canonical_integer(const std::string& text) {
    long long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return json_string(text);
    return std::to_string(value);
}

std::string toml_value(const SettingSpec& spec, const std::string& text) {
    switch (spec.kind) {
        case SettingKind::switch_:
            return text;
        case SettingKind::integer:
        case SettingKind::count:
            return canonical_integer(text);
        case SettingKind::secret_url:
            return json_string(shown_url(text));
        case SettingKind::list: {  // an array of strings; the text holds one a line
            std::string array;
            std::string_view rest = text;
            while (!rest.empty()) {
                std::size_t end = std::min(rest.find('\n'), rest.size());
                array += (array.empty() ? "" : ", ") + json_string(rest.substr(0, end));
                rest.remove_prefix(std::min(end + 1, rest.size()));
            }
            return "[" + array + "]";
        }
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

// The value as it resolves here: defaults that depend on the environment are shown as such.
std::string effective_text(const Invocation& invocation, const SettingSpec& spec) {
    std::string text = invocation.settings.at(std::string(spec.name)).text;
    if (spec.name == "state-dir" && text.empty()) text = default_state_dir();
    if (spec.name == "backend" && text.empty()) {
        text = invocation.options.redis_url.empty() ? "local" : "redis";
    }
    return text;
}

const char* password_source() {
    return std::getenv("LOCKRUN_REDIS_PASSWORD") ? "LOCKRUN_REDIS_PASSWORD" : nullptr;
}

// {"config_file": ..., "settings": {NAME: {"value", "source", "where"}}, ...}: the value is
// the JSON of its kind (a switch a boolean, a number a number, a list an array).
int show_config_json(const Invocation& invocation) {
    JsonObject settings;
    for (const SettingSpec* listed : listed_settings()) {
        const SettingSpec& spec = *listed;
        const SettingValue& value = invocation.settings.at(std::string(spec.name));
        std::string text = effective_text(invocation, spec);
        std::string json;
        switch (spec.kind) {
            case SettingKind::switch_:
                json = text;
                break;
            case SettingKind::integer:
            case SettingKind::count:
                json = canonical_integer(text);
                break;
            case SettingKind::secret_url:
                json = json_string(shown_url(text));
                break;
            case SettingKind::list: {
                std::vector<std::string> items;
                for (const std::string& item : SettingReader(spec, value).items()) {
                    items.push_back(json_string(item));
                }
                json = json_array(items);
                break;
            }
            default:
                json = json_string(text);
        }
        static constexpr const char* k_sources[] = {"default", "file", "environment", "flag"};
        settings.raw(spec.name, JsonObject()
                                    .raw("value", json)
                                    .string("source", k_sources[static_cast<int>(value.origin)])
                                    .string("where", value.where)
                                    .str());
    }
    const char* password = password_source();
    print_to_stdout(JsonObject()
                        .raw("config_file", invocation.config_file
                                                ? json_string(*invocation.config_file)
                                                : std::string("null"))
                        .raw("settings", settings.str())
                        .raw("redis_password_from", password ? json_string(password) : "null")
                        .str() +
                    "\n");
    return 0;
}

}  // namespace

int show_config(const Invocation& invocation) {
    if (invocation.json) return show_config_json(invocation);
    std::ostringstream out;
    out << "# config file: " << invocation.config_file.value_or("none") << "\n";
    for (const SettingSpec* listed : listed_settings()) {
        const SettingSpec& spec = *listed;
        const SettingValue& value = invocation.settings.at(std::string(spec.name));
        std::string text = effective_text(invocation, spec);
        std::string line = std::string(spec.name) + " = " + toml_value(spec, text);
        if (line.size() < 40) line.resize(40, ' ');
        out << line << " # " << origin_text(value) << "\n";
    }
    out << "# redis password: "
        << (password_source() ? "set in LOCKRUN_REDIS_PASSWORD (hidden)" : "not in the environment")
        << "\n";
    print_to_stdout(out.str());
    return 0;
}

}  // namespace lockrun
