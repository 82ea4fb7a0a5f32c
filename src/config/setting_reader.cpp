#include "config/setting_reader.hpp"

#include <algorithm>
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

std::vector<std::string> SettingReader::items() const {
    std::vector<std::string> items;
    std::string_view rest = text();
    while (!rest.empty()) {
        std::size_t end = std::min(rest.find('\n'), rest.size());
        if (end > 0) items.emplace_back(rest.substr(0, end));
        rest.remove_prefix(std::min(end + 1, rest.size()));
    }
    return items;
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
    // A list is shown as its items, as the environment gives them.
    std::string shown = v.text;
    if (spec_.kind == SettingKind::list) std::ranges::replace(shown, '\n', ',');
    switch (v.origin) {
        case SettingValue::Origin::flag:
            throw UsageError(v.where + " '" + shown + "' " + problem);
        case SettingValue::Origin::environment:
            throw ConfigError(v.where + "='" + shown + "' " + problem);
        case SettingValue::Origin::file:
            throw ConfigError(v.where + ": " + name + " '" + shown + "' " + problem);
        default:
            throw InternalError("the default of " + name + " " + problem);
    }
}

}  // namespace lockrun
