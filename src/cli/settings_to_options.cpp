// Settings (texts with their origin) to typed Options: one checker for every value,
// wherever it came from, so that a bad value is reported the same way and points at the
// flag, the environment variable or the config file line to fix.

#include <charconv>

#include "cli/options.hpp"
#include "core/errors.hpp"
#include "util/size.hpp"

namespace lockrun {
namespace {

constexpr Millis k_min_lease{100};

class SettingReader {
public:
    explicit SettingReader(const SettingValues& settings) : settings_(settings) {}

    const std::string& text(std::string_view name) const { return value(name).text; }

    Millis duration(std::string_view name, bool allow_infinite) const {
        if (auto parsed = parse_duration(text(name), allow_infinite)) return *parsed;
        fail(name, "is not a duration of at most 100 years (like 250ms, 30s, 5m, 2h, 1d" +
                       std::string(allow_infinite ? ", inf)" : ")"));
    }
    std::uint64_t size(std::string_view name) const {
        if (auto parsed = parse_size(text(name))) return *parsed;
        fail(name, "is not a size (like 512, 64KiB, 16MiB)");
    }
    bool switch_on(std::string_view name) const {
        const std::string& t = text(name);
        if (t == "true") return true;
        if (t == "false") return false;
        fail(name, "is not true or false");
    }
    int integer(std::string_view name, int low, int high) const {
        const std::string& t = text(name);
        int number = 0;
        auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), number);
        if (error != std::errc() || end != t.data() + t.size() || number < low || number > high) {
            fail(name, "is not a whole number from " + std::to_string(low) + " to " +
                           std::to_string(high));
        }
        return number;
    }
    template <typename Value>
    Value choice(std::string_view name,
                 std::initializer_list<std::pair<std::string_view, Value>> choices) const {
        std::string names;
        for (const auto& [choice_name, choice_value] : choices) {
            if (choice_name == text(name)) return choice_value;
            names += (names.empty() ? "" : ", ") + std::string(choice_name);
        }
        fail(name, "is not one of " + names);
    }
    // A check that is not about the value's form (a minimum, say).
    [[noreturn]] void fail(std::string_view name, const std::string& problem) const {
        const SettingValue& v = value(name);
        std::string message;
        switch (v.origin) {
            case SettingValue::Origin::flag:
                throw UsageError(v.where + " '" + v.text + "' " + problem);
            case SettingValue::Origin::environment:
                throw ConfigError(v.where + "='" + v.text + "' " + problem);
            case SettingValue::Origin::file:
                throw ConfigError(v.where + ": " + std::string(name) + " '" + v.text + "' " +
                                  problem);
            default:
                throw InternalError("the default of " + std::string(name) + " " + problem);
        }
    }

private:
    const SettingValue& value(std::string_view name) const {
        auto found = settings_.find(name);
        if (found == settings_.end()) {
            throw InternalError("no setting named " + std::string(name));
        }
        return found->second;
    }
    const SettingValues& settings_;
};

}  // namespace

void apply_settings(const SettingValues& settings, Options& o) {
    SettingReader read(settings);
    o.lease = read.duration("lease", false);
    if (o.lease < k_min_lease) read.fail("lease", "is below the minimum of 100ms");
    o.wait = read.duration("wait", true);
    o.conflict_exit_code = read.integer("conflict-exit-code", 0, 255);
    o.no_cache = read.switch_on("no-cache");
    o.cache_failures = read.switch_on("cache-failures");
    o.cache_stderr = read.switch_on("cache-stderr");
    o.cache_ttl = read.duration("cache-ttl", false);  // 0: shared with waiters, kept by none
    o.cache_max_bytes = read.size("cache-max-bytes");
    o.key_from_command = read.switch_on("key-from-command");
    o.no_holder_command = read.switch_on("no-holder-command");
    o.on_lock_lost = read.choice<OnLockLost>(
        "on-lock-lost",
        {{"term", OnLockLost::term}, {"kill", OnLockLost::kill}, {"ignore", OnLockLost::ignore}});
    o.kill_after = read.duration("kill-after", false);
    o.on_backend_error = read.choice<Options::OnBackendError>(
        "on-backend-error",
        {{"fail", Options::OnBackendError::fail}, {"run", Options::OnBackendError::run}});
    if (!read.text("backend").empty()) {
        o.backend = read.choice<Options::BackendKind>(
            "backend",
            {{"local", Options::BackendKind::local}, {"redis", Options::BackendKind::redis}});
    }
    o.state_dir = read.text("state-dir");
    o.redis_url = read.text("redis");
    o.redis_url_from_flag = settings.at("redis").origin == SettingValue::Origin::flag;
    o.redis_password_file = read.text("redis-password-file");
    o.tls_ca_file = read.text("tls-ca-file");
    o.tls_cert_file = read.text("tls-cert-file");
    o.tls_key_file = read.text("tls-key-file");
    o.tls_server_name = read.text("tls-server-name");
    o.connect_timeout = read.duration("connect-timeout", false);
    if (o.connect_timeout == Millis(0)) read.fail("connect-timeout", "must be more than 0");
    o.io_timeout = read.duration("io-timeout", false);
    if (o.io_timeout == Millis(0)) read.fail("io-timeout", "must be more than 0");
    o.prefix = read.text("prefix");
    // -q and -v speak of one thing: the one from the stronger source wins (a -v flag over
    // quiet = true in the file), and -q with -v on the same level means quiet.
    bool quiet = read.switch_on("quiet");
    int verbose = read.integer("verbose", 0, 2);
    bool quiet_wins =
        quiet && (verbose == 0 || settings.at("quiet").origin >= settings.at("verbose").origin);
    o.verbosity = quiet_wins ? -1 : verbose;
    o.log_format = read.choice<LogFormat>("log-format",
                                          {{"text", LogFormat::text}, {"json", LogFormat::json}});
    o.metrics_file = read.text("metrics-file");
}

}  // namespace lockrun
