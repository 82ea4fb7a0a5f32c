// resolve_settings (SPEC §2): flag > LOCKRUN_* environment > config file > default, per
// setting, each value with its origin; environment switches normalised. The environment is
// a map handed in as a lookup, never the process's own.

#include "config/resolve.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/setting.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

using Environment = std::map<std::string, std::string>;
using Origin = SettingValue::Origin;

EnvironmentLookup lookup_in(const Environment& environment) {
    return [&environment](const char* name) -> const char* {
        auto found = environment.find(name);
        return found == environment.end() ? nullptr : found->second.c_str();
    };
}

// A text of the setting's kind, marked with where it came from ("flag", "environment",
// "file"); resolve_settings passes texts on unchecked except for environment switches.
std::string text_for(const SettingSpec& spec, const std::string& source) {
    return spec.kind == SettingKind::switch_ ? "true" : source + "-" + std::string(spec.name);
}

SettingValue flag_value(const SettingSpec& spec) {
    return {text_for(spec, "flag"), Origin::flag, "--" + std::string(spec.name)};
}

SettingValue file_value(const SettingSpec& spec, int line) {
    return {text_for(spec, "file"), Origin::file,
            "/etc/lockrun/config.toml:" + std::to_string(line)};
}

// The settings that the environment and the config file may set; the table's other rows
// are options of one run, which only a flag sets.
std::vector<SettingSpec> file_settings() {
    std::vector<SettingSpec> specs;
    for (const SettingSpec& spec : setting_specs()) {
        if (spec.in_file()) specs.push_back(spec);
    }
    return specs;
}

TEST(ResolveSettings, EnvironmentNamesAreRegular) {
    EXPECT_EQ(environment_name("cache-ttl"), "LOCKRUN_CACHE_TTL");
    EXPECT_EQ(environment_name("redis"), "LOCKRUN_REDIS_URL");
    EXPECT_EQ(environment_name("redis-password-file"), "LOCKRUN_REDIS_PASSWORD_FILE");
    EXPECT_EQ(environment_name("lease"), "LOCKRUN_LEASE");
    EXPECT_EQ(environment_name("no-cache"), "LOCKRUN_NO_CACHE");
    EXPECT_EQ(environment_name("on-backend-error"), "LOCKRUN_ON_BACKEND_ERROR");
    EXPECT_EQ(environment_name("tls-ca-file"), "LOCKRUN_TLS_CA_FILE");
    EXPECT_EQ(environment_name("conflict-exit-code"), "LOCKRUN_CONFLICT_EXIT_CODE");
}

TEST(ResolveSettings, EverySettingHasADefault) {
    Environment environment;
    SettingValues resolved = resolve_settings({}, {}, lookup_in(environment));
    EXPECT_EQ(resolved.size(), setting_specs().size());
    for (const SettingSpec& spec : setting_specs()) {
        SCOPED_TRACE(std::string(spec.name));
        auto found = resolved.find(spec.name);
        ASSERT_NE(found, resolved.end());
        EXPECT_EQ(found->second.text, spec.default_text);
        EXPECT_EQ(found->second.origin, Origin::default_value);
        EXPECT_EQ(found->second.where, "");
    }
}

TEST(ResolveSettings, SomeDefaultsAreTheSpecs) {
    Environment environment;
    SettingValues resolved = resolve_settings({}, {}, lookup_in(environment));
    EXPECT_EQ(resolved.at("lease").text, "30s");
    EXPECT_EQ(resolved.at("wait").text, "0");
    EXPECT_EQ(resolved.at("cache-ttl").text, "300s");
    EXPECT_EQ(resolved.at("cache-max-bytes").text, "16MiB");
    EXPECT_EQ(resolved.at("conflict-exit-code").text, "75");
    EXPECT_EQ(resolved.at("on-lock-lost").text, "term");
    EXPECT_EQ(resolved.at("kill-after").text, "10s");
    EXPECT_EQ(resolved.at("on-backend-error").text, "fail");
    EXPECT_EQ(resolved.at("connect-timeout").text, "2s");
    EXPECT_EQ(resolved.at("io-timeout").text, "2s");
    EXPECT_EQ(resolved.at("prefix").text, "lockrun:");
    EXPECT_EQ(resolved.at("no-cache").text, "false");
}

// For every setting, one step down the precedence at a time.
TEST(ResolveSettings, FlagThenEnvironmentThenFileThenDefault) {
    SettingValues flags, file;
    Environment environment;
    int line = 1;
    for (const SettingSpec& spec : file_settings()) {
        flags[std::string(spec.name)] = flag_value(spec);
        file[std::string(spec.name)] = file_value(spec, line++);
        environment[environment_name(spec.name)] =
            spec.kind == SettingKind::switch_ ? "yes" : text_for(spec, "environment");
    }

    SettingValues resolved = resolve_settings(flags, file, lookup_in(environment));
    for (const SettingSpec& spec : file_settings()) {
        SCOPED_TRACE(std::string(spec.name));
        const SettingValue& value = resolved.at(std::string(spec.name));
        EXPECT_EQ(value.origin, Origin::flag);
        EXPECT_EQ(value.text, text_for(spec, "flag"));
        EXPECT_EQ(value.where, "--" + std::string(spec.name));
    }

    resolved = resolve_settings({}, file, lookup_in(environment));
    for (const SettingSpec& spec : file_settings()) {
        SCOPED_TRACE(std::string(spec.name));
        const SettingValue& value = resolved.at(std::string(spec.name));
        EXPECT_EQ(value.origin, Origin::environment);
        EXPECT_EQ(value.text, text_for(spec, "environment"));
        EXPECT_EQ(value.where, environment_name(spec.name));
    }

    Environment empty;
    resolved = resolve_settings({}, file, lookup_in(empty));
    line = 1;
    for (const SettingSpec& spec : file_settings()) {
        SCOPED_TRACE(std::string(spec.name));
        const SettingValue& value = resolved.at(std::string(spec.name));
        EXPECT_EQ(value.origin, Origin::file);
        EXPECT_EQ(value.text, text_for(spec, "file"));
        EXPECT_EQ(value.where, "/etc/lockrun/config.toml:" + std::to_string(line++));
    }
}

// Each setting on its own: the others keep their own origin.
TEST(ResolveSettings, PrecedenceIsPerSetting) {
    SettingValues flags = {{"lease", {"4s", Origin::flag, "--lease"}}};
    SettingValues file = {
        {"lease", {"2500ms", Origin::file, "/c.toml:1"}},
        {"wait", {"1s", Origin::file, "/c.toml:2"}},
        {"prefix", {"file:", Origin::file, "/c.toml:3"}},
    };
    Environment environment = {{"LOCKRUN_LEASE", "3s"}, {"LOCKRUN_WAIT", "2s"}};
    SettingValues resolved = resolve_settings(flags, file, lookup_in(environment));

    EXPECT_EQ(resolved.at("lease").text, "4s");
    EXPECT_EQ(resolved.at("lease").origin, Origin::flag);
    EXPECT_EQ(resolved.at("lease").where, "--lease");

    EXPECT_EQ(resolved.at("wait").text, "2s");
    EXPECT_EQ(resolved.at("wait").origin, Origin::environment);
    EXPECT_EQ(resolved.at("wait").where, "LOCKRUN_WAIT");

    EXPECT_EQ(resolved.at("prefix").text, "file:");
    EXPECT_EQ(resolved.at("prefix").origin, Origin::file);
    EXPECT_EQ(resolved.at("prefix").where, "/c.toml:3");

    EXPECT_EQ(resolved.at("cache-ttl").text, "300s");
    EXPECT_EQ(resolved.at("cache-ttl").origin, Origin::default_value);
}

TEST(ResolveSettings, TheRedisUrlComesFromLockrunRedisUrl) {
    Environment environment = {{"LOCKRUN_REDIS", "redis://wrong:1"},
                               {"LOCKRUN_REDIS_URL", "redis://right:2"},
                               {"LOCKRUN_REDIS_PASSWORD_FILE", "/run/secret"}};
    SettingValues resolved = resolve_settings({}, {}, lookup_in(environment));
    EXPECT_EQ(resolved.at("redis").text, "redis://right:2");
    EXPECT_EQ(resolved.at("redis").where, "LOCKRUN_REDIS_URL");
    EXPECT_EQ(resolved.at("redis-password-file").text, "/run/secret");
    EXPECT_EQ(resolved.at("redis-password-file").where, "LOCKRUN_REDIS_PASSWORD_FILE");
}

// Only LOCKRUN_ + each setting's name is looked at (LOCKRUN_KEY, which the command sees,
// is not a setting, nor is the password itself).
TEST(ResolveSettings, LooksOnlyAtTheSettingsVariables) {
    std::set<std::string> asked;
    EnvironmentLookup recording = [&asked](const char* name) -> const char* {
        asked.insert(name);
        return nullptr;
    };
    resolve_settings({}, {}, recording);
    std::set<std::string> expected;
    for (const SettingSpec& spec : file_settings()) expected.insert(environment_name(spec.name));
    EXPECT_EQ(asked, expected);
    EXPECT_EQ(asked.count("LOCKRUN_KEY"), 0u);
    EXPECT_EQ(asked.count("LOCKRUN_REFRESH"), 0u);
    EXPECT_EQ(asked.count("LOCKRUN_REDIS_PASSWORD"), 0u);
}

TEST(ResolveSettings, EnvironmentSwitchesAreNormalised) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1", "true"},      {"true", "true"}, {"yes", "true"}, {"0", "false"},
        {"false", "false"}, {"no", "false"},  {"", "false"},
    };
    for (const auto& [given, normalised] : cases) {
        SCOPED_TRACE("LOCKRUN_NO_CACHE='" + given + "'");
        Environment environment = {{"LOCKRUN_NO_CACHE", given}, {"LOCKRUN_QUIET", given}};
        SettingValues resolved = resolve_settings({}, {}, lookup_in(environment));
        EXPECT_EQ(resolved.at("no-cache").text, normalised);
        EXPECT_EQ(resolved.at("no-cache").origin, Origin::environment);
        EXPECT_EQ(resolved.at("no-cache").where, "LOCKRUN_NO_CACHE");
        EXPECT_EQ(resolved.at("quiet").text, normalised);
    }
}

// An environment switch of "0" still beats the file's true.
TEST(ResolveSettings, AnEnvironmentSwitchOffBeatsTheFile) {
    SettingValues file = {{"no-cache", {"true", Origin::file, "/c.toml:1"}}};
    Environment environment = {{"LOCKRUN_NO_CACHE", "0"}};
    SettingValues resolved = resolve_settings({}, file, lookup_in(environment));
    EXPECT_EQ(resolved.at("no-cache").text, "false");
    EXPECT_EQ(resolved.at("no-cache").origin, Origin::environment);
}

TEST(ResolveSettings, ABadEnvironmentSwitchIsAConfigErrorNamingTheVariable) {
    for (const std::string& variable :
         {std::string("LOCKRUN_NO_CACHE"), std::string("LOCKRUN_CACHE_STDERR")}) {
        SCOPED_TRACE(variable);
        Environment environment = {{variable, "maybe"}};
        try {
            resolve_settings({}, {}, lookup_in(environment));
            ADD_FAILURE() << "no error for " << variable << "=maybe";
        } catch (const ConfigError& e) {
            std::string message = e.what();
            EXPECT_NE(message.find(variable), std::string::npos) << message;
            EXPECT_NE(message.find("maybe"), std::string::npos) << message;
            EXPECT_EQ(e.exit_code(), 78);
        }
    }
}

// Environment values of other kinds are passed on as given, to be checked by the one
// converter (apply_settings), which names the variable.
TEST(ResolveSettings, OtherEnvironmentValuesAreTakenAsGiven) {
    Environment environment = {{"LOCKRUN_WAIT", "soon"}, {"LOCKRUN_CONFLICT_EXIT_CODE", "x"}};
    SettingValues resolved = resolve_settings({}, {}, lookup_in(environment));
    EXPECT_EQ(resolved.at("wait").text, "soon");
    EXPECT_EQ(resolved.at("wait").origin, Origin::environment);
    EXPECT_EQ(resolved.at("conflict-exit-code").text, "x");
}

}  // namespace
}  // namespace lockrun
