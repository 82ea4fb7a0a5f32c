#pragma once
// One setting's value read as its kind: one checker for every value, wherever it came
// from, so that a bad value is reported the same way and points at the flag, the
// environment variable or the config file line to fix (UsageError for a flag, ConfigError
// otherwise).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/setting.hpp"
#include "core/errors.hpp"
#include "util/duration.hpp"

namespace lockrun {

class SettingReader {
public:
    SettingReader(const SettingSpec& spec, const SettingValue& value)
        : spec_(spec), value_(value) {}

    const SettingValue& value() const { return value_; }
    const std::string& text() const { return value_.text; }
    Millis duration() const;  // "inf" only for SettingKind::duration_or_inf
    std::uint64_t size() const;
    bool on() const;
    std::vector<std::string> items() const;  // of a list, in the order given
    int integer(int low, int high) const;
    // The value of `values` at the position of the text in spec.choices.
    template <typename Value>
    Value choice(std::initializer_list<Value> values) const {
        std::size_t index = choice_index();
        if (index >= values.size()) throw InternalError("no value for a choice of this setting");
        return values.begin()[index];
    }
    // A check that is not about the value's form (a minimum, say).
    [[noreturn]] void fail(const std::string& problem) const;

private:
    std::size_t choice_index() const;

    const SettingSpec& spec_;
    const SettingValue& value_;
};

}  // namespace lockrun
