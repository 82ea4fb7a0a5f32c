#include "config/setting_reader.hpp"

#include <charconv>

#include "core/errors.hpp"
#include "util/size.hpp"

namespace lockrun {

Millis SettingReader::duration() const {
    bool allow_infinite = spec_.kind == SettingKind::duration_or_inf;
    if (auto parsed = parse_duration(text(), allow_infinite)) return *parsed;
    fail("is not a duration of at most 100 years (like 250ms, 30s, 5m, 2h, 1d" +
         std::string(allow_infinite ? ", inf)" : ")"));
}

std::uint64_t SettingReader::size() const {
    if (auto parsed = parse_size(text())) return *parsed;
    fail("is not a size (like 512, 64KiB, 16MiB)");
}

bool SettingReader::on() const {
    if (text() == "true") return true;
    if (text() == "false") return false;
    fail("is not true or false");
}

int SettingReader::integer(int low, int high) const {
    const std::string& t = text();
    int number = 0;
    auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), number);
    if (error != std::errc() || end != t.data() + t.size() || number < low || number > high) {
        fail("is not a whole number from " + std::to_string(low) + " to " + std::to_string(high));
    }
    return number;
}

std::size_t SettingReader::choice_index() const {
    std::string names;
    for (std::size_t i = 0; i < spec_.choices.size(); ++i) {
        if (spec_.choices[i] == text()) return i;
        names += (names.empty() ? "" : ", ") + std::string(spec_.choices[i]);
    }
    fail("is not one of " + names);
}

void SettingReader::fail(const std::string& problem) const {
    std::string name(spec_.name);
    const SettingValue& v = value_;
    switch (v.origin) {
        case SettingValue::Origin::flag:
            throw UsageError(v.where + " '" + v.text + "' " + problem);
        case SettingValue::Origin::environment:
            throw ConfigError(v.where + "='" + v.text + "' " + problem);
        case SettingValue::Origin::file:
            throw ConfigError(v.where + ": " + name + " '" + v.text + "' " + problem);
        default:
            throw InternalError("the default of " + name + " " + problem);
    }
}

}  // namespace lockrun
