// From settings to Options (cli/settings_to_options.cpp, through parse_command_line): every
// setting converted from each origin, and a bad value reported as a usage error (64) naming
// the flag, or a configuration error (78) naming the variable or the file's PATH:LINE and
// key. The environment is a map handed in as a lookup, never the process's own; the config
// file is looked for only in a directory made for the test.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "config/resolve.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Environment = std::map<std::string, std::string>;
using Origin = SettingValue::Origin;
using Words = std::vector<std::string>;

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

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class SettingsToOptions : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "lockrun-settings.XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        // The user's config file, empty unless a test writes one: no file of this machine
        // (/etc/lockrun/config.toml) is ever read.
        config_path_ = write("xdg/lockrun/config.toml", "");
        environment_ = {{"XDG_CONFIG_HOME", dir_ + "/xdg"}};
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    std::string write(const std::string& name, const std::string& text) const {
        fs::path path = fs::path(dir_) / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path.string();
    }
    // The config file that parse() finds; returns its path.
    std::string write_config(const std::string& text) const {
        return write("xdg/lockrun/config.toml", text);
    }

    Invocation parse(const Words& arguments) const {
        Words words{"lockrun"};
        words.insert(words.end(), arguments.begin(), arguments.end());
        std::vector<const char*> argv;
        for (const std::string& word : words) argv.push_back(word.c_str());
        argv.push_back(nullptr);
        const Environment& environment = environment_;
        return parse_command_line(static_cast<int>(words.size()), argv.data(),
                                  [&environment](const char* name) -> const char* {
                                      auto found = environment.find(name);
                                      return found == environment.end() ? nullptr
                                                                        : found->second.c_str();
                                  });
    }
    // Options of a run of `true` under key k, with the arguments before it.
    Options options(Words arguments) const {
        arguments.insert(arguments.end(), {"--key", "k", "--", "true"});
        Invocation invocation = parse(arguments);
        EXPECT_EQ(invocation.action, Invocation::Action::run);
        return invocation.options;
    }
    template <typename Wanted>
    std::string error(Words arguments) const {
        arguments.insert(arguments.end(), {"--key", "k", "--", "true"});
        return message_of<Wanted>([&] { parse(arguments); });
    }

    std::string dir_;
    std::string config_path_;
    Environment environment_;
};

// The values that the three "every setting" tests below give, each from its origin.
void expect_every_setting_converted(const Options& o) {
    EXPECT_EQ(o.run.lease, 45s);
    EXPECT_EQ(o.run.wait, k_infinite);
    EXPECT_EQ(o.run.conflict_exit_code, 9);
    EXPECT_FALSE(o.run.use_cache);
    EXPECT_TRUE(o.run.cache_failures);
    EXPECT_FALSE(o.run.cache_stderr);
    EXPECT_TRUE(o.no_holder_command);
    EXPECT_EQ(o.run.cache_ttl, 10min);
    EXPECT_EQ(o.run.cache_max_bytes, 64u * 1024u);
    EXPECT_EQ(o.run.on_lock_lost, OnLockLost::ignore);
    EXPECT_EQ(o.run.kill_after, 3s);
    EXPECT_TRUE(o.run.run_unguarded_on_backend_error);
    EXPECT_EQ(o.backend, Options::BackendKind::redis);
    EXPECT_EQ(o.state_dir, "/srv/lockrun-state");
    EXPECT_EQ(o.redis_url, "redis://redis.example:6380/2");
    EXPECT_EQ(o.redis_password_file, "/run/redis-password");
    EXPECT_EQ(o.tls_ca_file, "/etc/ca.pem");
    EXPECT_EQ(o.tls_cert_file, "/etc/cert.pem");
    EXPECT_EQ(o.tls_key_file, "/etc/key.pem");
    EXPECT_EQ(o.tls_server_name, "redis.internal");
    EXPECT_EQ(o.connect_timeout, 1500ms);
    EXPECT_EQ(o.run.io_timeout, 5s);
    EXPECT_EQ(o.prefix, "jobs:");
    EXPECT_EQ(o.verbosity, 1);
    EXPECT_EQ(o.log_format, LogFormat::json);
    EXPECT_EQ(o.metrics_file, "/var/lib/metrics/job.prom");
    using Labels = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(o.metrics_labels.pairs, (Labels{{"team", "ops"}, {"env", "prod"}}));
    EXPECT_TRUE(o.metrics_labels.with_key);
    EXPECT_EQ(o.min_replicas, 2);
    EXPECT_EQ(o.sentinel_password_file, "/run/sentinel-password");
    EXPECT_EQ(o.cache_key_file, "/etc/lockrun/cache.key");
    EXPECT_EQ(o.run.key, "k");
    EXPECT_EQ(o.run.command.argv, Words{"true"});
}

// Settings that the "every setting" tests do not set (they are tested on their own), and
// the options of one run, which are no settings of the environment or the file.
// --stale cannot go with the --no-cache of the tests below: its own tests follow them.
bool set_elsewhere(const SettingSpec& spec) {
    return spec.name == "quiet" || spec.name == "key-from-command" || spec.name == "stale" ||
           !spec.in_file();
}

TEST_F(SettingsToOptions, TheTableGivesEveryDefault) {
    Invocation invocation = parse({"--key", "k", "--", "true"});
    const Options& o = invocation.options;
    EXPECT_EQ(o.run.lease, 30s);
    EXPECT_EQ(o.run.wait, 0ms);
    EXPECT_EQ(o.run.conflict_exit_code, 75);
    EXPECT_TRUE(o.run.use_cache);
    EXPECT_FALSE(o.run.refresh);
    EXPECT_FALSE(o.run.cache_failures);
    EXPECT_TRUE(o.run.cache_stderr);  // since 0.2
    EXPECT_FALSE(o.key_from_command);
    EXPECT_EQ(o.run.cache_ttl, 300s);
    EXPECT_EQ(o.run.cache_max_bytes, 16u * 1024u * 1024u);
    EXPECT_EQ(o.run.on_lock_lost, OnLockLost::term);
    EXPECT_EQ(o.run.kill_after, 10s);
    EXPECT_FALSE(o.run.run_unguarded_on_backend_error);
    EXPECT_EQ(o.backend, Options::BackendKind::automatic);
    EXPECT_EQ(o.state_dir, "");
    EXPECT_EQ(o.redis_url, "");
    EXPECT_FALSE(o.redis_url_from_flag);
    EXPECT_EQ(o.connect_timeout, 2s);
    EXPECT_EQ(o.run.io_timeout, 2s);
    EXPECT_EQ(o.prefix, "lockrun:");
    EXPECT_EQ(o.verbosity, 0);
    EXPECT_EQ(o.log_format, LogFormat::text);
    EXPECT_EQ(o.metrics_file, "");
    EXPECT_EQ(invocation.config_file, config_path_);
    for (const SettingSpec& spec : setting_specs()) {
        if (!spec.in_file()) continue;  // --key is given
        SCOPED_TRACE(std::string(spec.name));
        EXPECT_EQ(invocation.settings.at(std::string(spec.name)).origin, Origin::default_value);
    }
}

TEST_F(SettingsToOptions, EverySettingFromFlags) {
    Invocation invocation = parse({"--lease",
                                   "45s",
                                   "--wait",
                                   "inf",
                                   "--conflict-exit-code",
                                   "9",
                                   "--no-cache",
                                   "--cache-failures",
                                   "--no-cache-stderr",
                                   "--no-holder-command",
                                   "--cache-ttl",
                                   "10m",
                                   "--cache-max-bytes",
                                   "64KiB",
                                   "--on-lock-lost",
                                   "ignore",
                                   "--kill-after",
                                   "3s",
                                   "--on-backend-error",
                                   "run",
                                   "--backend",
                                   "redis",
                                   "--state-dir",
                                   "/srv/lockrun-state",
                                   "--redis",
                                   "redis://redis.example:6380/2",
                                   "--redis-password-file",
                                   "/run/redis-password",
                                   "--tls-ca-file",
                                   "/etc/ca.pem",
                                   "--tls-cert-file",
                                   "/etc/cert.pem",
                                   "--tls-key-file",
                                   "/etc/key.pem",
                                   "--tls-server-name",
                                   "redis.internal",
                                   "--connect-timeout",
                                   "1500ms",
                                   "--io-timeout",
                                   "5s",
                                   "--prefix",
                                   "jobs:",
                                   "-v",
                                   "--log-format",
                                   "json",
                                   "--metrics-file",
                                   "/var/lib/metrics/job.prom",
                                   "--metrics-label",
                                   "team=ops",
                                   "--metrics-label",
                                   "env=prod",
                                   "--metrics-label",
                                   "key",
                                   "--min-replicas",
                                   "2",
                                   "--sentinel-password-file",
                                   "/run/sentinel-password",
                                   "--cache-key-file",
                                   "/etc/lockrun/cache.key",
                                   "--key",
                                   "k",
                                   "--",
                                   "true"});
    expect_every_setting_converted(invocation.options);
    EXPECT_TRUE(invocation.options.redis_url_from_flag);
    for (const SettingSpec& spec : setting_specs()) {
        if (set_elsewhere(spec)) continue;
        SCOPED_TRACE(std::string(spec.name));
        const SettingValue& value = invocation.settings.at(std::string(spec.name));
        EXPECT_EQ(value.origin, Origin::flag);
        EXPECT_EQ(value.where, spec.name == "verbose" ? "-v" : "--" + std::string(spec.name));
    }
}

TEST_F(SettingsToOptions, EverySettingFromTheEnvironment) {
    environment_.insert({
        {"LOCKRUN_LEASE", "45s"},
        {"LOCKRUN_WAIT", "inf"},
        {"LOCKRUN_CONFLICT_EXIT_CODE", "9"},
        {"LOCKRUN_NO_CACHE", "1"},
        {"LOCKRUN_CACHE_FAILURES", "true"},
        {"LOCKRUN_CACHE_STDERR", "no"},
        {"LOCKRUN_NO_HOLDER_COMMAND", "yes"},
        {"LOCKRUN_CACHE_TTL", "10m"},
        {"LOCKRUN_CACHE_MAX_BYTES", "64KiB"},
        {"LOCKRUN_ON_LOCK_LOST", "ignore"},
        {"LOCKRUN_KILL_AFTER", "3s"},
        {"LOCKRUN_ON_BACKEND_ERROR", "run"},
        {"LOCKRUN_BACKEND", "redis"},
        {"LOCKRUN_STATE_DIR", "/srv/lockrun-state"},
        {"LOCKRUN_REDIS_URL", "redis://redis.example:6380/2"},
        {"LOCKRUN_REDIS_PASSWORD_FILE", "/run/redis-password"},
        {"LOCKRUN_TLS_CA_FILE", "/etc/ca.pem"},
        {"LOCKRUN_TLS_CERT_FILE", "/etc/cert.pem"},
        {"LOCKRUN_TLS_KEY_FILE", "/etc/key.pem"},
        {"LOCKRUN_TLS_SERVER_NAME", "redis.internal"},
        {"LOCKRUN_CONNECT_TIMEOUT", "1500ms"},
        {"LOCKRUN_IO_TIMEOUT", "5s"},
        {"LOCKRUN_PREFIX", "jobs:"},
        {"LOCKRUN_VERBOSE", "1"},
        {"LOCKRUN_LOG_FORMAT", "json"},
        {"LOCKRUN_METRICS_FILE", "/var/lib/metrics/job.prom"},
        {"LOCKRUN_METRICS_LABEL", "team=ops,env=prod,key"},
        {"LOCKRUN_MIN_REPLICAS", "2"},
        {"LOCKRUN_SENTINEL_PASSWORD_FILE", "/run/sentinel-password"},
        {"LOCKRUN_CACHE_KEY_FILE", "/etc/lockrun/cache.key"},
    });
    Invocation invocation = parse({"--key", "k", "--", "true"});
    expect_every_setting_converted(invocation.options);
    EXPECT_FALSE(invocation.options.redis_url_from_flag);
    for (const SettingSpec& spec : setting_specs()) {
        if (set_elsewhere(spec)) continue;
        SCOPED_TRACE(std::string(spec.name));
        const SettingValue& value = invocation.settings.at(std::string(spec.name));
        EXPECT_EQ(value.origin, Origin::environment);
        EXPECT_EQ(value.where, environment_name(spec.name));
    }
}

TEST_F(SettingsToOptions, EverySettingFromTheConfigFile) {
    const std::vector<std::string> lines = {
        "lease = \"45s\"",
        "wait = \"inf\"",
        "conflict-exit-code = 9",
        "no-cache = true",
        "cache-failures = true",
        "cache-stderr = false",
        "no-holder-command = true",
        "cache-ttl = 600",
        "cache-max-bytes = 65536",
        "on-lock-lost = \"ignore\"",
        "kill-after = 3",
        "on-backend-error = \"run\"",
        "backend = \"redis\"",
        "state-dir = \"/srv/lockrun-state\"",
        "redis = \"redis://redis.example:6380/2\"",
        "redis-password-file = \"/run/redis-password\"",
        "tls-ca-file = \"/etc/ca.pem\"",
        "tls-cert-file = \"/etc/cert.pem\"",
        "tls-key-file = \"/etc/key.pem\"",
        "tls-server-name = \"redis.internal\"",
        "connect-timeout = \"1500ms\"",
        "io-timeout = \"5s\"",
        "prefix = \"jobs:\"",
        "verbose = 1",
        "log-format = \"json\"",
        "metrics-file = \"/var/lib/metrics/job.prom\"",
        "metrics-label = [\"team=ops\", \"env=prod\", \"key\"]",
        "min-replicas = 2",
        "sentinel-password-file = \"/run/sentinel-password\"",
        "cache-key-file = \"/etc/lockrun/cache.key\"",
    };
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    std::string path = write_config(text);
    Invocation invocation = parse({"--key", "k", "--", "true"});
    expect_every_setting_converted(invocation.options);
    EXPECT_FALSE(invocation.options.redis_url_from_flag);
    EXPECT_EQ(invocation.config_file, path);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string name = lines[i].substr(0, lines[i].find(' '));
        SCOPED_TRACE(name);
        const SettingValue& value = invocation.settings.at(name);
        EXPECT_EQ(value.origin, Origin::file);
        EXPECT_EQ(value.where, path + ":" + std::to_string(i + 1));
    }
    for (const SettingSpec& spec : setting_specs()) {
        if (set_elsewhere(spec)) continue;
        SCOPED_TRACE(std::string(spec.name));
        EXPECT_EQ(invocation.settings.at(std::string(spec.name)).origin, Origin::file);
    }
}

TEST_F(SettingsToOptions, TheConfigFlagNamesTheFileRead) {
    std::string path = write("elsewhere.toml", "\nprefix = \"else:\"\n");
    Invocation invocation = parse({"--config", path, "--key", "k", "--", "true"});
    EXPECT_EQ(invocation.config_file, path);
    EXPECT_EQ(invocation.options.prefix, "else:");
    EXPECT_EQ(invocation.settings.at("prefix").where, path + ":2");
}

TEST_F(SettingsToOptions, FlagBeatsEnvironmentBeatsFile) {
    write_config("lease = \"2500ms\"\nwait = \"1s\"\ncache-ttl = \"1m\"\n");
    environment_["LOCKRUN_LEASE"] = "3s";
    environment_["LOCKRUN_WAIT"] = "2s";
    Options o = options({"--lease", "4s"});
    EXPECT_EQ(o.run.lease, 4s);
    EXPECT_EQ(o.run.wait, 2s);
    EXPECT_EQ(o.run.cache_ttl, 1min);
    EXPECT_EQ(o.run.kill_after, 10s);
}

TEST_F(SettingsToOptions, KeyFromCommandFromEachOrigin) {
    Options from_flag = parse({"--key-from-command", "--", "echo", "hi"}).options;
    EXPECT_TRUE(from_flag.key_from_command);
    EXPECT_TRUE(from_flag.run.key.starts_with("cmd:")) << from_flag.run.key;

    environment_["LOCKRUN_KEY_FROM_COMMAND"] = "yes";
    Options from_environment = parse({"--", "echo", "hi"}).options;
    EXPECT_EQ(from_environment.run.key, from_flag.run.key);
    environment_.erase("LOCKRUN_KEY_FROM_COMMAND");

    write_config("key-from-command = true\n");
    Options from_file = parse({"--", "echo", "hi"}).options;
    EXPECT_EQ(from_file.run.key, from_flag.run.key);
}

// --- bad values ---------------------------------------------------------------------

struct BadValue {
    std::string setting;
    std::string flag_text;  // empty: not given as a flag
    std::string environment_text;
    std::string file_value;  // as TOML
    std::string file_text;   // as the message quotes it
};

const std::vector<BadValue>& bad_values() {
    static const std::vector<BadValue> cases = {
        {"lease", "soon", "soon", "\"soon\"", "soon"},
        {"lease", "inf", "inf", "\"inf\"", "inf"},
        {"lease", "5x", "30 s", "-5", "-5"},
        {"wait", "later", "-1s", "\"later\"", "later"},
        {"conflict-exit-code", "256", "-1", "300", "300"},
        {"conflict-exit-code", "7x", "seventy", "-2", "-2"},
        {"cache-ttl", "inf", "never", "-1", "-1"},
        {"cache-max-bytes", "lots", "-1", "\"lots\"", "lots"},
        {"on-lock-lost", "explode", "explode", "\"explode\"", "explode"},
        {"kill-after", "x", "inf", "\"x\"", "x"},
        {"on-backend-error", "maybe", "maybe", "\"maybe\"", "maybe"},
        {"backend", "etcd", "etcd", "\"etcd\"", "etcd"},
        {"connect-timeout", "0", "0s", "0", "0"},
        {"io-timeout", "inf", "forever", "\"0ms\"", "0ms"},
        {"verbose", "", "3", "7", "7"},
        {"log-format", "xml", "xml", "\"xml\"", "xml"},
    };
    return cases;
}

TEST_F(SettingsToOptions, ABadFlagValueIsAUsageErrorNamingTheFlag) {
    for (const BadValue& c : bad_values()) {
        if (c.flag_text.empty()) continue;
        std::string flag = "--" + c.setting;
        SCOPED_TRACE(flag + " " + c.flag_text);
        std::string message = error<UsageError>({flag, c.flag_text});
        EXPECT_TRUE(contains(message, flag)) << message;
        EXPECT_TRUE(contains(message, "'" + c.flag_text + "'")) << message;
    }
}

TEST_F(SettingsToOptions, ABadEnvironmentValueIsAConfigErrorNamingTheVariable) {
    for (const BadValue& c : bad_values()) {
        std::string variable = environment_name(c.setting);
        SCOPED_TRACE(variable + "=" + c.environment_text);
        environment_[variable] = c.environment_text;
        std::string message = error<ConfigError>({});
        environment_.erase(variable);
        EXPECT_TRUE(contains(message, variable)) << message;
        EXPECT_TRUE(contains(message, "'" + c.environment_text + "'")) << message;
    }
}

TEST_F(SettingsToOptions, ABadFileValueIsAConfigErrorNamingFileLineAndKey) {
    for (const BadValue& c : bad_values()) {
        SCOPED_TRACE(c.setting + " = " + c.file_value);
        std::string path =
            write_config("# lockrun\nprefix = \"p:\"\n" + c.setting + " = " + c.file_value + "\n");
        std::string message = error<ConfigError>({});
        EXPECT_TRUE(contains(message, path + ":3")) << message;
        EXPECT_TRUE(contains(message, c.setting)) << message;
        EXPECT_TRUE(contains(message, "'" + c.file_text + "'")) << message;
    }
}

// The flag's value is checked, not the environment's or the file's that it overrides,
// and a bad value that a flag overrides is no error.
TEST_F(SettingsToOptions, AnOverriddenBadValueIsNoError) {
    write_config("lease = \"soon\"\n");
    environment_["LOCKRUN_WAIT"] = "later";
    Options o = options({"--lease", "5s", "--wait", "1s"});
    EXPECT_EQ(o.run.lease, 5s);
    EXPECT_EQ(o.run.wait, 1s);
}

TEST_F(SettingsToOptions, ABadSwitchInTheEnvironmentNamesTheVariable) {
    environment_["LOCKRUN_NO_CACHE"] = "maybe";
    std::string message = error<ConfigError>({});
    EXPECT_TRUE(contains(message, "LOCKRUN_NO_CACHE")) << message;
    EXPECT_TRUE(contains(message, "maybe")) << message;
}

TEST_F(SettingsToOptions, ASwitchOfTheWrongTypeInTheFileNamesFileLineAndKey) {
    std::string path = write_config("\nno-cache = \"yes\"\n");
    std::string message = error<ConfigError>({});
    EXPECT_TRUE(contains(message, path + ":2")) << message;
    EXPECT_TRUE(contains(message, "no-cache")) << message;
}

// --- the lease minimum (100ms) ------------------------------------------------------

TEST_F(SettingsToOptions, ALeaseBelow100msFromAFlagIsAUsageError) {
    std::string message = error<UsageError>({"--lease", "50ms"});
    EXPECT_TRUE(contains(message, "--lease")) << message;
    EXPECT_TRUE(contains(message, "100ms")) << message;
    message = error<UsageError>({"-l", "99ms"});
    EXPECT_TRUE(contains(message, "--lease")) << message;
}

TEST_F(SettingsToOptions, ALeaseBelow100msFromTheFileIsAConfigErrorWithFileLine) {
    std::string path = write_config("\n\nlease = \"99ms\"\n");
    std::string message = error<ConfigError>({});
    EXPECT_TRUE(contains(message, path + ":3")) << message;
    EXPECT_TRUE(contains(message, "lease")) << message;
    EXPECT_TRUE(contains(message, "100ms")) << message;
}

TEST_F(SettingsToOptions, ALeaseBelow100msFromTheEnvironmentIsAConfigError) {
    environment_["LOCKRUN_LEASE"] = "0.05s";
    std::string message = error<ConfigError>({});
    EXPECT_TRUE(contains(message, "LOCKRUN_LEASE")) << message;
    EXPECT_TRUE(contains(message, "100ms")) << message;
}

TEST_F(SettingsToOptions, ALeaseOf100msIsAccepted) {
    EXPECT_EQ(options({"--lease", "100ms"}).run.lease, 100ms);
    write_config("lease = \"0.1s\"\n");
    EXPECT_EQ(options({}).run.lease, 100ms);
}

// --- verbosity ----------------------------------------------------------------------

TEST_F(SettingsToOptions, VerbosityFromFlags) {
    EXPECT_EQ(options({}).verbosity, 0);
    EXPECT_EQ(options({"-v"}).verbosity, 1);
    EXPECT_EQ(options({"-vv"}).verbosity, 2);
    EXPECT_EQ(options({"-v", "--verbose"}).verbosity, 2);
    EXPECT_EQ(options({"-vvv"}).verbosity, 2);
    EXPECT_EQ(options({"-q"}).verbosity, -1);
    EXPECT_EQ(options({"--quiet"}).verbosity, -1);
}

TEST_F(SettingsToOptions, VerbosityFromTheFile) {
    write_config("quiet = true\n");
    EXPECT_EQ(options({}).verbosity, -1);
    write_config("verbose = 2\n");
    EXPECT_EQ(options({}).verbosity, 2);
    write_config("quiet = false\nverbose = 1\n");
    EXPECT_EQ(options({}).verbosity, 1);
}

TEST_F(SettingsToOptions, VerbosityFromTheEnvironment) {
    environment_["LOCKRUN_QUIET"] = "1";
    EXPECT_EQ(options({}).verbosity, -1);
    environment_.erase("LOCKRUN_QUIET");
    environment_["LOCKRUN_VERBOSE"] = "2";
    EXPECT_EQ(options({}).verbosity, 2);
}

TEST_F(SettingsToOptions, QuietOnTheCommandLineBeatsVerboseInTheFile) {
    write_config("verbose = 2\n");
    EXPECT_EQ(options({"-q"}).verbosity, -1);
}

// Flags > environment > file (SPEC §2) holds for how much lockrun says, too: -v on the
// command line is not silenced by a quiet = true that the config file sets.
TEST_F(SettingsToOptions, VerboseOnTheCommandLineBeatsQuietInTheFile) {
    write_config("quiet = true\n");
    EXPECT_EQ(options({"-v"}).verbosity, 1);
    EXPECT_EQ(options({"-vv"}).verbosity, 2);
}

TEST_F(SettingsToOptions, VerboseOnTheCommandLineBeatsQuietInTheEnvironment) {
    environment_["LOCKRUN_QUIET"] = "yes";
    EXPECT_EQ(options({"-v"}).verbosity, 1);
}

// --- apply_settings on its own ------------------------------------------------------

TEST_F(SettingsToOptions, ApplySettingsNamesWhereEachBadValueCameFrom) {
    Environment none;
    SettingValues settings = resolve_settings({}, {}, [&none](const char* name) -> const char* {
        auto found = none.find(name);
        return found == none.end() ? nullptr : found->second.c_str();
    });
    Options o;
    apply_settings(settings, o);
    EXPECT_EQ(o.run.lease, 30s);

    settings["kill-after"] = {"soon", Origin::flag, "--kill-after"};
    std::string message = message_of<UsageError>([&] { apply_settings(settings, o); });
    EXPECT_EQ(message.rfind("--kill-after 'soon'", 0), 0u) << message;

    settings["kill-after"] = {"soon", Origin::environment, "LOCKRUN_KILL_AFTER"};
    message = message_of<ConfigError>([&] { apply_settings(settings, o); });
    EXPECT_EQ(message.rfind("LOCKRUN_KILL_AFTER='soon'", 0), 0u) << message;

    settings["kill-after"] = {"soon", Origin::file, "/etc/lockrun/config.toml:7"};
    message = message_of<ConfigError>([&] { apply_settings(settings, o); });
    EXPECT_EQ(message.rfind("/etc/lockrun/config.toml:7: kill-after 'soon'", 0), 0u) << message;
}

TEST_F(SettingsToOptions, StaleFromEveryPlace) {
    Invocation by_flag = parse({"--stale", "2m", "--key", "k", "--", "true"});
    EXPECT_EQ(by_flag.options.run.stale, std::optional<Millis>(2min));
    environment_.insert({{"LOCKRUN_STALE", "90s"}});
    Invocation by_environment = parse({"--key", "k", "--", "true"});
    EXPECT_EQ(by_environment.options.run.stale, std::optional<Millis>(90s));
}

TEST_F(SettingsToOptions, AStaleFlagThatCannotApplyIsAUsageError) {
    EXPECT_EQ(message_of<UsageError>([&] {
                  parse({"--stale", "1m", "--no-cache", "--key", "k", "--", "true"});
              }),
              "--stale 1m needs the cache, which --no-cache turns off");
    EXPECT_EQ(message_of<UsageError>([&] {
                  parse({"--stale", "10m", "--key", "k", "--", "true"});
              }),
              "--stale 10m is not shorter than --cache-ttl 5m: no result would ever be stale");
}

TEST_F(SettingsToOptions, AStaleFlagYieldsToTheEnvironmentWithAWarning) {
    environment_.insert({{"LOCKRUN_NO_CACHE", "1"}});
    Invocation invocation = parse({"--stale", "1m", "--key", "k", "--", "true"});
    EXPECT_FALSE(invocation.options.run.stale.has_value());
    ASSERT_EQ(invocation.warnings.size(), 1u);
    EXPECT_EQ(invocation.warnings[0],
              "--stale 1m needs the cache, which --no-cache turns off (set by LOCKRUN_NO_CACHE): "
              "not applied");
}

TEST_F(SettingsToOptions, AStaleSettingThatCannotApplyWithTheDefaultsIsAConfigurationError) {
    environment_.insert({{"LOCKRUN_STALE", "10m"}});
    EXPECT_EQ(message_of<ConfigError>([&] {
                  parse({"--key", "k", "--", "true"});
              }),
              "LOCKRUN_STALE: --stale 10m is not shorter than --cache-ttl 5m: no result would "
              "ever be stale");
}

TEST_F(SettingsToOptions, AStaleSettingFromTheEnvironmentYieldsToTheRunsFlags) {
    environment_.insert({{"LOCKRUN_STALE", "1m"}});
    Invocation invocation = parse({"--no-cache", "--key", "k", "--", "true"});
    EXPECT_FALSE(invocation.options.run.stale.has_value());
}

}  // namespace
}  // namespace lockrun
