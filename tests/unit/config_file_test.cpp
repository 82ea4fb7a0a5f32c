// The TOML config file (SPEC §2): which file is read (find_config_file) and what it says
// (read_config_file). Files are written into a directory made for each test; the
// environment is a map handed in as a lookup, never the process's own.

#include "config/config_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "config/setting.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

namespace fs = std::filesystem;
using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup_in(const Environment& environment) {
    return [&environment](const char* name) -> const char* {
        auto found = environment.find(name);
        return found == environment.end() ? nullptr : found->second.c_str();
    };
}

// The message of the Wanted error that body throws; a test failure when it throws
// nothing or another error.
template <typename Wanted, typename Body>
std::string message_of(Body&& body) {
    try {
        body();
    } catch (const Wanted& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw another error than the one expected: " << e.what();
        return "";
    }
    ADD_FAILURE() << "threw nothing";
    return "";
}

class ConfigFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "lockrun-config-file.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    // Writes text to dir/name (making its directories) and returns the file's path.
    std::string write(const std::string& name, const std::string& text) const {
        fs::path path = fs::path(dir_) / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path.string();
    }

    std::string dir_;
};

// --- read_config_file ---------------------------------------------------------------

using ConfigFileRead = ConfigFileTest;

TEST_F(ConfigFileRead, ReadsEveryKindWithItsOriginAndLine) {
    std::string path = write("config.toml",
                             "# lockrun settings\n"             // 1
                             "\n"                               // 2
                             "lease = \"30s\"\n"                // 3
                             "kill-after = 30\n"                // 4
                             "cache-max-bytes = \"16MiB\"\n"    // 5
                             "connect-timeout = \"250ms\"\n"    // 6
                             "no-cache = true\n"                // 7
                             "cache-failures = false\n"         // 8
                             "conflict-exit-code = 3\n"         // 9
                             "prefix = \"jobs:\"\n"             // 10
                             "redis = \"redis://h:1/2\"\n"      // 11
                             "on-lock-lost = \"kill\"\n"        // 12
                             "   wait = \"inf\"   # comment\n"  // 13
                             "verbose = 2\n");                  // 14
    SettingValues values = read_config_file(path);
    struct Expected {
        std::string name, text;
        int line;
    };
    const std::vector<Expected> expected = {
        {"lease", "30s", 3},
        {"kill-after", "30", 4},
        {"cache-max-bytes", "16MiB", 5},
        {"connect-timeout", "250ms", 6},
        {"no-cache", "true", 7},
        {"cache-failures", "false", 8},
        {"conflict-exit-code", "3", 9},
        {"prefix", "jobs:", 10},
        {"redis", "redis://h:1/2", 11},
        {"on-lock-lost", "kill", 12},
        {"wait", "inf", 13},
        {"verbose", "2", 14},
    };
    EXPECT_EQ(values.size(), expected.size());
    for (const Expected& e : expected) {
        SCOPED_TRACE(e.name);
        auto found = values.find(e.name);
        ASSERT_NE(found, values.end());
        EXPECT_EQ(found->second.text, e.text);
        EXPECT_EQ(found->second.origin, SettingValue::Origin::file);
        EXPECT_EQ(found->second.where, path + ":" + std::to_string(e.line));
    }
}

TEST_F(ConfigFileRead, SizeAsAnIntegerIsBytes) {
    std::string path = write("config.toml", "cache-max-bytes = 1048576\n");
    SettingValues values = read_config_file(path);
    ASSERT_EQ(values.count("cache-max-bytes"), 1u);
    EXPECT_EQ(values.at("cache-max-bytes").text, "1048576");
    EXPECT_EQ(values.at("cache-max-bytes").where, path + ":1");
}

TEST_F(ConfigFileRead, DurationAsAnIntegerIsSeconds) {
    std::string path = write("config.toml", "lease = 30\ncache-ttl = \"10m\"\n");
    SettingValues values = read_config_file(path);
    EXPECT_EQ(values.at("lease").text, "30");
    EXPECT_EQ(values.at("cache-ttl").text, "10m");
    EXPECT_EQ(values.at("cache-ttl").where, path + ":2");
}

// Every setting that the table lets the file set is a key of the file, on the line it
// stands.
TEST_F(ConfigFileRead, EverySettingIsAFileKey) {
    std::string text;
    std::vector<const SettingSpec*> keys;
    for (const SettingSpec& spec : setting_specs()) {
        if (!spec.in_file()) continue;  // an option of one run: a flag only
        keys.push_back(&spec);
        std::string value;
        switch (spec.kind) {
            case SettingKind::switch_:
                value = "true";
                break;
            case SettingKind::integer:
            case SettingKind::count:
                value = "1";
                break;
            case SettingKind::choice:
                value = "\"" + std::string(spec.choices.front()) + "\"";
                break;
            case SettingKind::size:
                value = "\"1KiB\"";
                break;
            case SettingKind::duration:
            case SettingKind::duration_or_inf:
                value = "\"5s\"";
                break;
            default:
                value = "\"some text\"";
                break;
        }
        text += std::string(spec.name) + " = " + value + "\n";
    }
    std::string path = write("config.toml", text);
    SettingValues values = read_config_file(path);
    ASSERT_EQ(values.size(), keys.size());
    int line = 1;
    for (const SettingSpec* spec : keys) {
        SCOPED_TRACE(std::string(spec->name));
        auto found = values.find(spec->name);
        ASSERT_NE(found, values.end());
        EXPECT_EQ(found->second.origin, SettingValue::Origin::file);
        EXPECT_EQ(found->second.where, path + ":" + std::to_string(line));
        ++line;
    }
}

TEST_F(ConfigFileRead, TheOptionsOfOneRunAreNotKeys) {
    for (const char* key : {"key", "command-string", "refresh", "config"}) {
        std::string path = write("config.toml", std::string(key) + " = \"x\"\n");
        std::string message = message_of<ConfigError>([&] { read_config_file(path); });
        EXPECT_NE(message.find("unknown key '" + std::string(key) + "'"), std::string::npos)
            << message;
    }
}

TEST_F(ConfigFileRead, AnUnknownKeyNamesFileLineAndKey) {
    std::string path = write("config.toml", "lease = \"30s\"\n\nleese = \"30s\"\n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    EXPECT_NE(message.find(path + ":3"), std::string::npos) << message;
    EXPECT_NE(message.find("leese"), std::string::npos) << message;
    EXPECT_NE(message.find("unknown"), std::string::npos) << message;
}

// Options of one run have no file key (SPEC §2): they are unknown keys like any other.
TEST_F(ConfigFileRead, RunOnlyKeysAreUnknown) {
    for (const std::string key : {"key", "refresh", "command-string", "config"}) {
        SCOPED_TRACE(key);
        std::string path = write(key + ".toml", "prefix = \"p:\"\n" + key + " = \"x\"\n");
        std::string message = message_of<ConfigError>([&] { read_config_file(path); });
        EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
        EXPECT_NE(message.find("'" + key + "'"), std::string::npos) << message;
        EXPECT_NE(message.find("unknown"), std::string::npos) << message;
    }
}

TEST_F(ConfigFileRead, AWrongTypeNamesFileLineKeyAndWhatItMustBe) {
    struct Case {
        std::string line;
        std::string key;
        std::string must_be;  // a part of what the message says the value must be
    };
    const std::vector<Case> cases = {
        {"lease = true", "lease", "integer"},
        {"lease = 1.5", "lease", "integer"},
        {"cache-max-bytes = false", "cache-max-bytes", "integer"},
        {"no-cache = \"yes\"", "no-cache", "true or false"},
        {"conflict-exit-code = \"75\"", "conflict-exit-code", "integer"},
        {"redis = 5", "redis", "string"},
        {"prefix = [\"a\"]", "prefix", "string"},
        {"on-lock-lost = { how = \"kill\" }", "on-lock-lost", "string"},
    };
    int number = 0;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line);
        std::string path =
            write("wrong" + std::to_string(number++) + ".toml", "# a comment\n" + c.line + "\n");
        std::string message = message_of<ConfigError>([&] { read_config_file(path); });
        EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
        EXPECT_NE(message.find(c.key), std::string::npos) << message;
        EXPECT_NE(message.find("must be"), std::string::npos) << message;
        EXPECT_NE(message.find(c.must_be), std::string::npos) << message;
    }
}

// "switches are booleans" (SPEC §2): an integer is the wrong type, not a switch that toml++
// would turn into true for any number but 0.
TEST_F(ConfigFileRead, ASwitchGivenAsAnIntegerIsAWrongType) {
    for (const std::string line : {"no-cache = 1", "cache-stderr = 0", "quiet = 2"}) {
        SCOPED_TRACE(line);
        std::string path = write("config.toml", "\n" + line + "\n");
        std::string key = line.substr(0, line.find(' '));
        std::string message = message_of<ConfigError>([&] { read_config_file(path); });
        EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
        EXPECT_NE(message.find(key), std::string::npos) << message;
        EXPECT_NE(message.find("true or false"), std::string::npos) << message;
    }
}

// PATH:LINE:COLUMN of the first thing that is not TOML.
TEST_F(ConfigFileRead, MalformedTomlNamesFileLineAndColumn) {
    std::string path = write("config.toml", "lease = \"30s\"\nwait = \n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    std::string start = path + ":2:";
    ASSERT_EQ(message.rfind(start, 0), 0u) << message;
    ASSERT_GT(message.size(), start.size());
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(message[start.size()]))) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(ConfigFileRead, AnUnterminatedStringIsMalformed) {
    std::string path = write("config.toml", "\n\nprefix = \"jobs:\n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    EXPECT_EQ(message.rfind(path + ":3:", 0), 0u) << message;
}

TEST_F(ConfigFileRead, ADuplicateKeyIsMalformed) {
    std::string path = write("config.toml", "lease = \"1s\"\nlease = \"2s\"\n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    EXPECT_EQ(message.rfind(path + ":2:", 0), 0u) << message;
}

// Settings are top-level keys: a [section] is not one of them.
TEST_F(ConfigFileRead, ATableIsAnError) {
    std::string path = write("config.toml", "prefix = \"p:\"\n[section]\nlease = \"30s\"\n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
    EXPECT_NE(message.find("section"), std::string::npos) << message;
}

TEST_F(ConfigFileRead, ATableNamedLikeASettingIsAnError) {
    std::string path = write("config.toml", "[lease]\nvalue = \"30s\"\n");
    std::string message = message_of<ConfigError>([&] { read_config_file(path); });
    EXPECT_NE(message.find(path + ":1"), std::string::npos) << message;
    EXPECT_NE(message.find("lease"), std::string::npos) << message;
}

TEST_F(ConfigFileRead, AnEmptyFileHasNoSettings) {
    EXPECT_TRUE(read_config_file(write("empty.toml", "")).empty());
    EXPECT_TRUE(read_config_file(write("comments.toml", "# nothing\n\n  # here\n")).empty());
}

// --- find_config_file ---------------------------------------------------------------

using ConfigFileFind = ConfigFileTest;

constexpr const char* k_system_config = "/etc/lockrun/config.toml";

// What is found when no flag, variable or user file names one: the system file if this
// machine has one, else nothing. Nothing is skipped on a machine that has one.
std::optional<std::string> system_config() {
    std::error_code error;
    if (fs::is_regular_file(k_system_config, error)) return std::string(k_system_config);
    return std::nullopt;
}

TEST_F(ConfigFileFind, TheConfigFlagWins) {
    std::string flagged = write("flagged.toml", "");
    std::string named = write("named.toml", "");
    write("xdg/lockrun/config.toml", "");
    write("home/.config/lockrun/config.toml", "");
    Environment environment = {
        {"LOCKRUN_CONFIG", named}, {"XDG_CONFIG_HOME", dir_ + "/xdg"}, {"HOME", dir_ + "/home"}};
    EXPECT_EQ(find_config_file(flagged, lookup_in(environment)), flagged);
}

TEST_F(ConfigFileFind, AMissingConfigFlagFileIsAConfigError) {
    std::string named = write("named.toml", "");
    Environment environment = {{"LOCKRUN_CONFIG", named}, {"XDG_CONFIG_HOME", dir_}};
    std::string missing = dir_ + "/absent.toml";
    std::string message =
        message_of<ConfigError>([&] { find_config_file(missing, lookup_in(environment)); });
    EXPECT_NE(message.find("--config"), std::string::npos) << message;
    EXPECT_NE(message.find(missing), std::string::npos) << message;
}

TEST_F(ConfigFileFind, AConfigFlagNamingADirectoryIsAConfigError) {
    Environment environment;
    std::string message =
        message_of<ConfigError>([&] { find_config_file(dir_, lookup_in(environment)); });
    EXPECT_EQ(message, "--config " + dir_ + ": a directory, not a TOML file");
}

TEST_F(ConfigFileFind, DevNullNamesNoFileAndSkipsTheUsualOnes) {
    write("xdg/lockrun/config.toml", "");
    Environment environment = {{"XDG_CONFIG_HOME", dir_ + "/xdg"}};
    EXPECT_EQ(find_config_file("/dev/null", lookup_in(environment)), std::nullopt);
    environment["LOCKRUN_CONFIG"] = "/dev/null";
    EXPECT_EQ(find_config_file("", lookup_in(environment)), std::nullopt);
}

TEST_F(ConfigFileFind, ADeviceOtherThanDevNullIsNoConfigFile) {
    Environment environment;
    EXPECT_EQ(
        message_of<ConfigError>([&] { find_config_file("/dev/zero", lookup_in(environment)); }),
        "--config /dev/zero: not a regular file");
}

TEST_F(ConfigFileFind, LockrunConfigComesNext) {
    std::string named = write("named.toml", "");
    write("xdg/lockrun/config.toml", "");
    Environment environment = {{"LOCKRUN_CONFIG", named}, {"XDG_CONFIG_HOME", dir_ + "/xdg"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), named);
}

TEST_F(ConfigFileFind, AMissingLockrunConfigFileIsAConfigError) {
    write("xdg/lockrun/config.toml", "");
    std::string missing = dir_ + "/absent.toml";
    Environment environment = {{"LOCKRUN_CONFIG", missing}, {"XDG_CONFIG_HOME", dir_ + "/xdg"}};
    std::string message =
        message_of<ConfigError>([&] { find_config_file("", lookup_in(environment)); });
    EXPECT_NE(message.find("LOCKRUN_CONFIG"), std::string::npos) << message;
    EXPECT_NE(message.find(missing), std::string::npos) << message;
}

TEST_F(ConfigFileFind, AnEmptyLockrunConfigIsUnset) {
    std::string user_file = write("xdg/lockrun/config.toml", "");
    Environment environment = {{"LOCKRUN_CONFIG", ""}, {"XDG_CONFIG_HOME", dir_ + "/xdg"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), user_file);
}

TEST_F(ConfigFileFind, ThenTheXdgConfigHomeFile) {
    std::string user_file = write("xdg/lockrun/config.toml", "");
    write("home/.config/lockrun/config.toml", "");
    Environment environment = {{"XDG_CONFIG_HOME", dir_ + "/xdg"}, {"HOME", dir_ + "/home"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), user_file);
}

TEST_F(ConfigFileFind, ThenDotConfigInHome) {
    std::string home_file = write("home/.config/lockrun/config.toml", "");
    Environment environment = {{"HOME", dir_ + "/home"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), home_file);
}

TEST_F(ConfigFileFind, AnEmptyXdgConfigHomeMeansDotConfigInHome) {
    std::string home_file = write("home/.config/lockrun/config.toml", "");
    Environment environment = {{"XDG_CONFIG_HOME", ""}, {"HOME", dir_ + "/home"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), home_file);
}

TEST_F(ConfigFileFind, AUserFileThatDoesNotExistIsNoError) {
    Environment environment = {{"XDG_CONFIG_HOME", dir_ + "/xdg"}, {"HOME", dir_ + "/home"}};
    EXPECT_EQ(find_config_file("", lookup_in(environment)), system_config());
}

TEST_F(ConfigFileFind, NothingAnywhereIsNoFile) {
    Environment environment;
    EXPECT_EQ(find_config_file("", lookup_in(environment)), system_config());
}

}  // namespace
}  // namespace lockrun
