// The settings table (config/setting.cpp) holds together: `lockrun config` lists each
// setting once, and every row applies its default and each of its choices.

#include "config/setting.hpp"

#include <gtest/gtest.h>

#include <set>

#include "config/options.hpp"
#include "config/setting_reader.hpp"

namespace lockrun {
namespace {

TEST(SettingTable, LockrunConfigListsEachSettingOnItsOwnLine) {
    std::set<int> lines;
    int listed = 0;
    for (const SettingSpec& spec : setting_specs()) {
        if (!spec.in_file()) continue;
        ++listed;
        EXPECT_TRUE(lines.insert(spec.config_line).second) << spec.name;
    }
    EXPECT_EQ(*lines.begin(), 1);
    EXPECT_EQ(*lines.rbegin(), listed);
}

TEST(SettingTable, EveryRowAppliesItsDefaultAndEachChoice) {
    for (const SettingSpec& spec : setting_specs()) {
        SCOPED_TRACE(std::string(spec.name));
        EXPECT_EQ(spec.choices.empty(), spec.kind != SettingKind::choice);
        if (spec.apply == nullptr) continue;
        std::vector<std::string> texts{std::string(spec.default_text)};
        texts.insert(texts.end(), spec.choices.begin(), spec.choices.end());
        for (const std::string& text : texts) {
            Options options;
            SettingValue value{text, SettingValue::Origin::flag, "--" + std::string(spec.name)};
            EXPECT_NO_THROW(spec.apply(SettingReader(spec, value), options)) << text;
        }
    }
}

}  // namespace
}  // namespace lockrun
