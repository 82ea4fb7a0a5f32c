#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "core/errors.hpp"
#include "core/key.hpp"

namespace lockrun {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

// Every test sees only the environment it sets: the process's own is never read (the
// developer's shell or a CI job may set LOCKRUN_* variables), and the user's config file is
// an empty one in a directory made for the test, so no file of this machine
// (~/.config/lockrun, /etc/lockrun) is read.
class CommandLine : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "lockrun-command-line.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        fs::create_directories(dir_ + "/lockrun");
        std::ofstream(dir_ + "/lockrun/config.toml");
        environment_ = {{"XDG_CONFIG_HOME", dir_}};
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    void set_env(const std::string& name, const std::string& value) { environment_[name] = value; }

    Invocation parse(std::initializer_list<std::string> arguments) const {
        Strings words{"lockrun"};
        words.insert(words.end(), arguments);
        std::vector<const char*> argv;
        for (const std::string& word : words) argv.push_back(word.c_str());
        argv.push_back(nullptr);
        const std::map<std::string, std::string>& environment = environment_;
        return parse_command_line(static_cast<int>(words.size()), argv.data(),
                                  [&environment](const char* name) -> const char* {
                                      auto found = environment.find(name);
                                      return found == environment.end() ? nullptr
                                                                        : found->second.c_str();
                                  });
    }
    Options options(std::initializer_list<std::string> arguments) const {
        Invocation invocation = parse(arguments);
        EXPECT_EQ(invocation.action, Invocation::Action::run);
        return invocation.options;
    }
    // The message of the UsageError that parsing throws, or a failure when it throws none.
    std::string usage_error(std::initializer_list<std::string> arguments) const {
        try {
            parse(arguments);
        } catch (const UsageError& e) {
            EXPECT_EQ(e.exit_code(), exit_code::k_usage);
            return e.what();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "threw something other than UsageError: " << e.what();
            return {};
        }
        ADD_FAILURE() << "no UsageError";
        return {};
    }

private:
    std::string dir_;
    std::map<std::string, std::string> environment_;
};

#define EXPECT_ONE_LINE_USAGE_ERROR(...)                                           \
    do {                                                                           \
        std::string message = usage_error(__VA_ARGS__);                            \
        EXPECT_FALSE(message.empty());                                             \
        EXPECT_EQ(message.find('\n'), std::string::npos) << "'" << message << "'"; \
    } while (false)

// ---- defaults (SPEC §2 table) ----

TEST_F(CommandLine, DefaultsFollowTheSpec) {
    Invocation invocation = parse({"-k", "report", "--", "true"});
    EXPECT_EQ(invocation.action, Invocation::Action::run);
    const Options& o = invocation.options;
    EXPECT_EQ(o.run.key, "report");
    EXPECT_FALSE(o.key_from_command);
    EXPECT_EQ(o.run.command.argv, Strings{"true"});
    EXPECT_EQ(o.run.lease, 30s);
    EXPECT_EQ(o.run.wait, 0ms);
    EXPECT_EQ(o.run.conflict_exit_code, 75);
    EXPECT_TRUE(o.run.use_cache);
    EXPECT_FALSE(o.run.refresh);
    EXPECT_FALSE(o.run.cache_failures);
    EXPECT_TRUE(o.run.cache_stderr);  // since 0.2: stderr is replayed too
    EXPECT_EQ(o.run.cache_ttl, 300s);
    EXPECT_EQ(o.run.cache_max_bytes, 16u * 1024u * 1024u);
    EXPECT_EQ(o.run.on_lock_lost, OnLockLost::term);
    EXPECT_EQ(o.run.kill_after, 10s);
    EXPECT_EQ(o.redis_url, "");
    EXPECT_EQ(o.connect_timeout, 2s);
    EXPECT_EQ(o.run.io_timeout, 2s);
    EXPECT_EQ(o.prefix, "lockrun:");
    EXPECT_EQ(o.verbosity, 0);
}

// ---- each option ----

TEST_F(CommandLine, ReadsTheKeyInEverySpelling) {
    EXPECT_EQ(options({"-k", "a", "--", "true"}).run.key, "a");
    EXPECT_EQ(options({"--key", "report:2026-11-22", "--", "true"}).run.key, "report:2026-11-22");
    EXPECT_EQ(options({"--key=b", "--", "true"}).run.key, "b");
    EXPECT_EQ(options({"-k", "r\xC3\xA9sum\xC3\xA9", "--", "true"}).run.key,
              "r\xC3\xA9sum\xC3\xA9");
}

TEST_F(CommandLine, ReadsTheLease) {
    EXPECT_EQ(options({"-k", "a", "--lease", "250ms", "--", "true"}).run.lease, 250ms);
    EXPECT_EQ(options({"-k", "a", "-l", "5m", "--", "true"}).run.lease, 5min);
    EXPECT_EQ(options({"-k", "a", "--lease", "100ms", "--", "true"}).run.lease, 100ms);
    EXPECT_EQ(options({"-k", "a", "--lease=45", "--", "true"}).run.lease, 45s);
}

TEST_F(CommandLine, ReadsTheWaitIncludingInf) {
    EXPECT_EQ(options({"-k", "a", "--wait", "10", "--", "true"}).run.wait, 10s);
    EXPECT_EQ(options({"-k", "a", "-w", "2h", "--", "true"}).run.wait, 2h);
    EXPECT_EQ(options({"-k", "a", "--wait", "inf", "--", "true"}).run.wait, k_infinite);
    EXPECT_EQ(options({"-k", "a", "--wait", "0", "--", "true"}).run.wait, 0ms);
}

TEST_F(CommandLine, ReadsTheOtherDurations) {
    Options o = options({"-k", "a", "--cache-ttl", "1d", "--kill-after", "3s", "--connect-timeout",
                         "500ms", "--io-timeout", "1.5s", "--", "true"});
    EXPECT_EQ(o.run.cache_ttl, 24h);
    EXPECT_EQ(o.run.kill_after, 3s);
    EXPECT_EQ(o.connect_timeout, 500ms);
    EXPECT_EQ(o.run.io_timeout, 1500ms);
}

TEST_F(CommandLine, ReadsSizes) {
    EXPECT_EQ(options({"-k", "a", "--cache-max-bytes", "512", "--", "true"}).run.cache_max_bytes,
              512u);
    EXPECT_EQ(options({"-k", "a", "--cache-max-bytes", "64KiB", "--", "true"}).run.cache_max_bytes,
              64u * 1024u);
    EXPECT_EQ(options({"-k", "a", "--cache-max-bytes", "16MiB", "--", "true"}).run.cache_max_bytes,
              16u * 1024u * 1024u);
    EXPECT_EQ(options({"-k", "a", "--cache-max-bytes", "0", "--", "true"}).run.cache_max_bytes, 0u);
}

TEST_F(CommandLine, ReadsTheConflictExitCode) {
    EXPECT_EQ(options({"-k", "a", "-E", "0", "--", "true"}).run.conflict_exit_code, 0);
    EXPECT_EQ(options({"-k", "a", "-E", "255", "--", "true"}).run.conflict_exit_code, 255);
    EXPECT_EQ(
        options({"-k", "a", "--conflict-exit-code", "3", "--", "true"}).run.conflict_exit_code, 3);
}

TEST_F(CommandLine, ReadsOnLockLost) {
    EXPECT_EQ(options({"-k", "a", "--on-lock-lost", "term", "--", "true"}).run.on_lock_lost,
              OnLockLost::term);
    EXPECT_EQ(options({"-k", "a", "--on-lock-lost", "kill", "--", "true"}).run.on_lock_lost,
              OnLockLost::kill);
    EXPECT_EQ(options({"-k", "a", "--on-lock-lost", "ignore", "--", "true"}).run.on_lock_lost,
              OnLockLost::ignore);
}

TEST_F(CommandLine, ReadsTheSwitches) {
    Options o = options(
        {"-k", "a", "--no-cache", "--refresh", "--cache-failures", "--cache-stderr", "--", "true"});
    EXPECT_FALSE(o.run.use_cache);
    EXPECT_TRUE(o.run.refresh);
    EXPECT_TRUE(o.run.cache_failures);
    EXPECT_TRUE(o.run.cache_stderr);
}

TEST_F(CommandLine, NoCacheStderrTurnsTheCaptureOff) {
    EXPECT_FALSE(options({"-k", "a", "--no-cache-stderr", "--", "true"}).run.cache_stderr);
    set_env("LOCKRUN_CACHE_STDERR", "0");
    EXPECT_FALSE(options({"-k", "a", "--", "true"}).run.cache_stderr);
    // The flag wins over the environment, either way.
    EXPECT_TRUE(options({"-k", "a", "--cache-stderr", "--", "true"}).run.cache_stderr);
}

TEST_F(CommandLine, CacheTtlZeroMeansCoalescingOnly) {
    EXPECT_EQ(options({"-k", "a", "--cache-ttl", "0", "--", "true"}).run.cache_ttl, 0s);
}

TEST_F(CommandLine, ReadsTheRedisUrlAndPrefix) {
    Options o = options(
        {"-k", "a", "--redis", "redis://127.0.0.1:6390/2", "--prefix", "jobs:", "--", "true"});
    EXPECT_EQ(o.redis_url, "redis://127.0.0.1:6390/2");
    EXPECT_EQ(o.prefix, "jobs:");
}

TEST_F(CommandLine, QuietIsVerbosityMinusOne) {
    EXPECT_EQ(options({"-q", "-k", "a", "--", "true"}).verbosity, -1);
    EXPECT_EQ(options({"--quiet", "-k", "a", "--", "true"}).verbosity, -1);
}

TEST_F(CommandLine, EachVerboseRaisesVerbosity) {
    EXPECT_EQ(options({"-v", "-k", "a", "--", "true"}).verbosity, 1);
    EXPECT_EQ(options({"-vv", "-k", "a", "--", "true"}).verbosity, 2);
    EXPECT_EQ(options({"-v", "-v", "-k", "a", "--", "true"}).verbosity, 2);
    EXPECT_EQ(options({"--verbose", "--verbose", "-k", "a", "--", "true"}).verbosity, 2);
}

// ---- the command ----

TEST_F(CommandLine, TakesTheCommandAfterDoubleDash) {
    EXPECT_EQ(options({"-k", "a", "--", "ls", "-la"}).run.command.argv, (Strings{"ls", "-la"}));
}

TEST_F(CommandLine, TakesTheCommandWithoutDoubleDash) {
    EXPECT_EQ(options({"-k", "a", "ls", "-la"}).run.command.argv, (Strings{"ls", "-la"}));
}

TEST_F(CommandLine, LeavesTheCommandsOwnOptionsToIt) {
    Options o = options({"-k", "a", "grep", "-k", "b", "--lease", "x", "--", "y"});
    EXPECT_EQ(o.run.key, "a");
    EXPECT_EQ(o.run.lease, 30s);
    EXPECT_EQ(o.run.command.argv, (Strings{"grep", "-k", "b", "--lease", "x", "--", "y"}));
}

TEST_F(CommandLine, LeavesHelpAndVersionAfterTheCommandToIt) {
    Invocation invocation = parse({"-k", "a", "--", "ls", "--help"});
    EXPECT_EQ(invocation.action, Invocation::Action::run);
    EXPECT_EQ(invocation.options.run.command.argv, (Strings{"ls", "--help"}));
    invocation = parse({"-k", "a", "git", "--version"});
    EXPECT_EQ(invocation.action, Invocation::Action::run);
    EXPECT_EQ(invocation.options.run.command.argv, (Strings{"git", "--version"}));
}

TEST_F(CommandLine, TakesACommandThatLooksLikeAnOptionAfterDoubleDash) {
    EXPECT_EQ(options({"-k", "a", "--", "--weird-name", "x"}).run.command.argv,
              (Strings{"--weird-name", "x"}));
}

TEST_F(CommandLine, KeepsEmptyAndSpacedArguments) {
    EXPECT_EQ(options({"-k", "a", "--", "printf", "%s|", "", "a b"}).run.command.argv,
              (Strings{"printf", "%s|", "", "a b"}));
}

TEST_F(CommandLine, CommandStringRunsTheShell) {
    EXPECT_EQ(options({"-k", "a", "-c", "echo hi | wc -c"}).run.command.argv,
              (Strings{"/bin/sh", "-c", "echo hi | wc -c"}));
    EXPECT_EQ(options({"-k", "a", "--command-string", "true"}).run.command.argv,
              (Strings{"/bin/sh", "-c", "true"}));
}

TEST_F(CommandLine, KeyFromCommandHashesTheArgv) {
    Options o = options({"--key-from-command", "--", "ls", "-la"});
    EXPECT_TRUE(o.key_from_command);
    // sha256("ls\0-la"), computed independently.
    EXPECT_EQ(o.run.key, "cmd:cddbfd187163ae15fc49b904f3f5fc5c3f6765565bc135d3a3b90719363ed3ce");
    EXPECT_EQ(o.run.key, key_from_command({"ls", "-la"}));
}

TEST_F(CommandLine, KeyFromCommandHashesTheShellArgvOfACommandString) {
    Options o = options({"--key-from-command", "-c", "echo hi"});
    // sha256("/bin/sh\0-c\0echo hi"), computed independently.
    EXPECT_EQ(o.run.key, "cmd:2f7ce7a103bf24bf1f1ebae74e30dfc736c20f47b0d46d51a064fcebe8e80847");
}

TEST_F(CommandLine, KeyFromCommandTogetherWithAKeyIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--key-from-command", "--", "ls"});
}

TEST_F(CommandLine, AKeyFlagWinsOverKeyFromCommandFromTheEnvironment) {
    set_env("LOCKRUN_KEY_FROM_COMMAND", "1");
    Options o = options({"-k", "mine", "--", "ls"});
    EXPECT_EQ(o.run.key, "mine");
    EXPECT_FALSE(o.key_from_command);
    // Without the flag, the environment's setting applies.
    EXPECT_EQ(options({"--", "ls"}).run.key, key_from_command({"ls"}));
}

TEST_F(CommandLine, ListIsASubcommand) {
    Invocation invocation = parse({"list", "--json"});
    EXPECT_EQ(invocation.action, Invocation::Action::list);
    EXPECT_TRUE(invocation.json);
}

TEST_F(CommandLine, AKeyOrACommandNamedLikeASubcommandIsARun) {
    // The subcommands are set up only when argv holds one of their names: these are the
    // runs that do, and they must still parse as runs.
    Invocation key = parse({"-k", "status", "--", "ls"});
    EXPECT_EQ(key.action, Invocation::Action::run);
    EXPECT_EQ(key.options.run.key, "status");
    Invocation command = parse({"-k", "a", "--", "doctor", "list"});
    EXPECT_EQ(command.action, Invocation::Action::run);
    EXPECT_EQ(command.options.run.command.argv, (Strings{"doctor", "list"}));
}

TEST_F(CommandLine, SubcommandsAfterTheConfigurationOptions) {
    Invocation invocation = parse({"--prefix", "jobs:", "cache", "show", "k", "--json"});
    EXPECT_EQ(invocation.action, Invocation::Action::cache_show);
    EXPECT_EQ(invocation.options.run.key, "k");
    EXPECT_EQ(invocation.options.prefix, "jobs:");
}

// ---- --help and --version ----

TEST_F(CommandLine, HelpReturnsTheHelpAction) {
    for (const char* flag : {"--help", "-h"}) {
        Invocation invocation = parse({flag});
        EXPECT_EQ(invocation.action, Invocation::Action::help) << flag;
        EXPECT_NE(invocation.text.find("Usage: lockrun"), std::string::npos) << invocation.text;
        EXPECT_NE(invocation.text.find("--lease"), std::string::npos);
        for (const char* subcommand : {"status", "list", "release", "cache", "config", "doctor"}) {
            EXPECT_NE(invocation.text.find(std::string("\n  ") + subcommand), std::string::npos)
                << flag << " does not list " << subcommand << ": " << invocation.text;
        }
    }
}

TEST_F(CommandLine, HelpNeedsNoKeyOrCommandAndWinsOverThem) {
    EXPECT_EQ(parse({"-k", "a", "--help"}).action, Invocation::Action::help);
}

TEST_F(CommandLine, VersionReturnsTheVersionAction) {
    Invocation invocation = parse({"--version"});
    EXPECT_EQ(invocation.action, Invocation::Action::version);
    EXPECT_EQ(invocation.text, std::string("lockrun ") + LOCKRUN_VERSION + "\n");
}

// ---- bad input: one usage line each ----

TEST_F(CommandLine, MissingKeyIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"--", "ls"});
    EXPECT_NE(usage_error({"--", "ls"}).find("--key"), std::string::npos);
}

TEST_F(CommandLine, EmptyKeyIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "", "--", "ls"});
    EXPECT_NE(usage_error({"-k", "", "--", "ls"}).find("empty"), std::string::npos);
}

TEST_F(CommandLine, KeyWithANewlineIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a\nb", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a\n", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "tab\there", "--", "ls"});
}

TEST_F(CommandLine, KeyTooLongOrNotUtf8IsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", std::string(513, 'k'), "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "\xff\xfe", "--", "ls"});
}

TEST_F(CommandLine, NoCommandIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-c", ""});
    EXPECT_ONE_LINE_USAGE_ERROR({});
}

TEST_F(CommandLine, CommandStringAndArgvTogetherIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-c", "echo hi", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-c", "echo hi", "ls"});
}

TEST_F(CommandLine, UnknownOptionBeforeTheCommandIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--bogus", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--bogus", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"--bogus", "-k", "a", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-Z", "ls"});
    EXPECT_NE(usage_error({"-k", "a", "--bogus", "ls"}).find("--bogus"), std::string::npos);
}

// SPEC §3: every error is one line, also when the unknown word holds a newline.
TEST_F(CommandLine, UnknownOptionWithANewlineIsStillOneLine) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--bo\ngus", "ls"});
}

TEST_F(CommandLine, LeaseBelowTheMinimumIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--lease", "50ms", "--", "ls"});
    EXPECT_NE(usage_error({"-k", "a", "--lease", "50ms", "--", "ls"}).find("100ms"),
              std::string::npos);
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--lease", "99ms", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--lease", "0", "--", "ls"});
}

TEST_F(CommandLine, InfiniteLeaseIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--lease", "inf", "--", "ls"});
}

TEST_F(CommandLine, MalformedDurationsAreUsageErrors) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--wait", "5x", "--", "ls"});
    EXPECT_NE(usage_error({"-k", "a", "--wait", "5x", "--", "ls"}).find("5x"), std::string::npos);
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--wait", "-1", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--cache-ttl", "inf", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--kill-after", "soon", "--", "ls"});
}

// SPEC §3: every error is one line. A value is quoted in its message, so a newline in it
// must not reach the message as a line break.
TEST_F(CommandLine, BadValueWithANewlineIsStillOneLine) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--wait", "5\nx", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--cache-max-bytes", "1\nx", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--on-lock-lost", "term\n", "--", "ls"});
}

TEST_F(CommandLine, ZeroTimeoutsAreUsageErrors) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--io-timeout", "0", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--connect-timeout", "0s", "--", "ls"});
}

TEST_F(CommandLine, ConflictExitCodeOutOfRangeIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-E", "256", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-E", "-1", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "-E", "x", "--", "ls"});
}

TEST_F(CommandLine, UnknownOnLockLostPolicyIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--on-lock-lost", "maybe", "--", "ls"});
    EXPECT_NE(usage_error({"-k", "a", "--on-lock-lost", "maybe", "--", "ls"}).find("maybe"),
              std::string::npos);
}

TEST_F(CommandLine, MalformedSizeIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--cache-max-bytes", "1x", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--cache-max-bytes", "-1", "--", "ls"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--cache-max-bytes", "1.5MiB", "--", "ls"});
}

TEST_F(CommandLine, OptionWithoutItsValueIsAUsageError) {
    EXPECT_ONE_LINE_USAGE_ERROR({"-k"});
    EXPECT_ONE_LINE_USAGE_ERROR({"-k", "a", "--lease"});
}

// ---- the environment ----

TEST_F(CommandLine, LeaseFromTheEnvironmentWhenNoFlagIsGiven) {
    set_env("LOCKRUN_LEASE", "45s");
    EXPECT_EQ(options({"-k", "a", "--", "true"}).run.lease, 45s);
}

TEST_F(CommandLine, LeaseFlagOverridesTheEnvironment) {
    set_env("LOCKRUN_LEASE", "45s");
    EXPECT_EQ(options({"-k", "a", "--lease", "10s", "--", "true"}).run.lease, 10s);
}

// A bad value from the environment is configuration (78), and the message names the
// variable to fix.
TEST_F(CommandLine, LeaseBelowTheMinimumFromTheEnvironmentIsAConfigError) {
    set_env("LOCKRUN_LEASE", "50ms");
    try {
        parse({"-k", "a", "--", "true"});
        ADD_FAILURE() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.exit_code(), exit_code::k_config);
        EXPECT_NE(std::string(e.what()).find("LOCKRUN_LEASE"), std::string::npos) << e.what();
    }
}

TEST_F(CommandLine, KeyFromTheEnvironmentIsNotUsed) {
    // What a nested lockrun sees: its parent's key in LOCKRUN_KEY.
    set_env("LOCKRUN_KEY", "parent-key");
    EXPECT_ONE_LINE_USAGE_ERROR({"--", "true"});
    EXPECT_EQ(options({"-k", "child-key", "--", "true"}).run.key, "child-key");
}

TEST_F(CommandLine, WhatTheCommandSeesDoesNotConfigureANestedLockrun) {
    set_env("LOCKRUN_KEY", "parent-key");
    set_env("LOCKRUN_FENCING_TOKEN", "17");
    set_env("LOCKRUN_LEASE_MS", "100");
    Options o = options({"-k", "child-key", "--", "true"});
    EXPECT_EQ(o.run.key, "child-key");
    EXPECT_EQ(o.run.lease, 30s);
}

TEST_F(CommandLine, OtherOptionsReadTheirEnvironmentVariables) {
    set_env("LOCKRUN_WAIT", "inf");
    set_env("LOCKRUN_CACHE_TTL", "10m");
    set_env("LOCKRUN_REDIS_URL", "redis://cache:6379");
    set_env("LOCKRUN_PREFIX", "jobs:");
    set_env("LOCKRUN_ON_LOCK_LOST", "ignore");
    Options o = options({"-k", "a", "--", "true"});
    EXPECT_EQ(o.run.wait, k_infinite);
    EXPECT_EQ(o.run.cache_ttl, 10min);
    EXPECT_EQ(o.redis_url, "redis://cache:6379");
    EXPECT_EQ(o.prefix, "jobs:");
    EXPECT_EQ(o.run.on_lock_lost, OnLockLost::ignore);
}

TEST_F(CommandLine, SwitchesInTheEnvironmentTakeOneTrueYesOrZeroFalseNo) {
    for (const char* on : {"1", "true", "yes"}) {
        set_env("LOCKRUN_NO_CACHE", on);
        EXPECT_FALSE(options({"-k", "a", "--", "true"}).run.use_cache) << on;
    }
    for (const char* off : {"0", "false", "no"}) {
        set_env("LOCKRUN_NO_CACHE", off);
        EXPECT_TRUE(options({"-k", "a", "--", "true"}).run.use_cache) << off;
    }
}

}  // namespace
}  // namespace lockrun
