#include "config/setting.hpp"

#include <algorithm>
#include <cctype>

#include "config/options.hpp"
#include "config/setting_reader.hpp"
#include "util/utf8.hpp"

namespace lockrun {
namespace {

constexpr Millis k_min_lease{100};

Millis positive_duration(const SettingReader& value) {
    Millis duration = value.duration();
    if (duration == Millis(0)) value.fail("must be more than 0");
    return duration;
}

// Prometheus's label names; `__` is reserved for its own, `outcome` is lockrun's, and the
// key is asked for by the bare word.
MetricsLabels metrics_labels(const SettingReader& value) {
    MetricsLabels labels;
    for (const std::string& item : value.items()) {
        if (item == "key") {
            labels.with_key = true;
            continue;
        }
        std::size_t equals = item.find('=');
        if (equals == std::string::npos || equals + 1 == item.size()) {
            value.fail("has '" + item + "': give NAME=VALUE (or key, for the key as a label)");
        }
        std::string name = item.substr(0, equals);
        bool well_formed = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                           std::ranges::all_of(name, [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                           });
        if (!well_formed || name.starts_with("__")) {
            value.fail("has the label name '" + name +
                       "': use letters, digits and _, not starting with a digit or __");
        }
        if (name == "outcome" || name == "key") {
            value.fail("sets '" + name + "', which lockrun writes itself" +
                       (name == "key" ? " (give key alone to label the series with the key)" : ""));
        }
        for (const auto& [known, _] : labels.pairs) {
            if (known == name) value.fail("gives the label '" + name + "' twice");
        }
        std::string text = item.substr(equals + 1);
        if (!is_valid_utf8(text) || std::ranges::any_of(text, [](char c) {
                return std::iscntrl(static_cast<unsigned char>(c));
            })) {
            value.fail("has a value for '" + name + "' that is not printable UTF-8");
        }
        labels.pairs.emplace_back(std::move(name), std::move(text));
    }
    return labels;
}

}  // namespace

const std::vector<SettingSpec>& setting_specs() {
    using K = SettingKind;
    using R = const SettingReader&;
    // name, short flag, kind, metavar, default, help, apply, `lockrun config` line[, choices]
    static const std::vector<SettingSpec> specs = {
        {"key", 'k', K::text, "KEY", "", "the unit of work: 1-512 bytes of printable UTF-8",
         [](R v, Options& o) { o.run.key = v.text(); }, 0},
        {"key-from-command", 0, K::switch_, "", "false",
         "KEY = cmd: + hex SHA-256 of the command's argv (NUL-joined)",
         [](R v, Options& o) { o.key_from_command = v.on(); }, 23},
        {"key-file", 0, K::list, "PATH", "",
         "add PATH's content to KEY (a directory: recursively; repeatable)",
         [](R v, Options& o) { o.key_inputs.files = v.items(); }, 0},
        {"key-env", 0, K::list, "NAME", "",
         "add the variable NAME's value (or its absence) to KEY (repeatable)",
         [](R v, Options& o) { o.key_inputs.variables = v.items(); }, 0},
        {"key-cwd", 0, K::switch_, "", "false", "add the working directory to KEY",
         [](R v, Options& o) { o.key_inputs.working_directory = v.on(); }, 0},
        {"lease", 'l', K::duration, "DUR", "30s", "lock lease, renewed every lease/3 (min 100ms)",
         [](R v, Options& o) {
             o.run.lease = v.duration();
             if (o.run.lease < k_min_lease) v.fail("is below the minimum of 100ms");
         },
         13},
        {"wait", 'w', K::duration_or_inf, "DUR|inf", "0",
         "how long to wait for a held lock; inf: no limit",
         [](R v, Options& o) { o.run.wait = v.duration(); }, 14},
        {"command-string", 'c', K::text, "STR", "", "run STR with /bin/sh -c",
         [](R v, Options& o) {
             if (!v.text().empty()) o.run.command.argv = {"/bin/sh", "-c", v.text()};
         },
         0},
        {"conflict-exit-code", 'E', K::integer, "N", "75",
         "exit code when the lock is not acquired in time (0-255)",
         [](R v, Options& o) { o.run.conflict_exit_code = v.integer(0, 255); }, 15},
        {"max-holders", 'n', K::integer, "N", "1",
         "a semaphore: up to N runs of KEY at once (1-1000), each with its own lease and "
         "fence; lock only",
         [](R v, Options& o) { o.run.max_holders = v.integer(1, 1000); }, 0},
        {"shared", 0, K::switch_, "", "false",
         "a shared (reader) hold beside other readers; exclusive holds wait for readers and "
         "keep new ones out; lock only",
         [](R v, Options& o) { o.run.shared = v.on(); }, 0},
        {"no-cache", 0, K::switch_, "", "false", "lock only: never read or write the result cache",
         [](R v, Options& o) { o.run.use_cache = !v.on(); }, 18},
        {"refresh", 0, K::switch_, "", "false", "skip the cache read, run, store the new result",
         [](R v, Options& o) { o.run.refresh = v.on(); }, 0},
        {"cache-failures", 0, K::switch_, "", "false", "also cache non-zero exits",
         [](R v, Options& o) { o.run.cache_failures = v.on(); }, 20},
        {"cache-stderr", 0, K::switch_, "", "true",
         "capture and replay stderr in order with stdout (default) / let it pass straight "
         "through",
         [](R v, Options& o) { o.run.cache_stderr = v.on(); }, 21},
        {"cache-ttl", 0, K::duration, "DUR", "300s",
         "lifetime of a cached result; 0: share with waiting callers only",
         [](R v, Options& o) { o.run.cache_ttl = v.duration(); }, 19},
        {"files", 0, K::list, "PATH", "",
         "share PATH (a file or directory the run makes) with the callers that replay its "
         "result; repeatable",
         [](R v, Options& o) { o.run.files = v.items(); }, 0},
        {"files-preserve-owner", 0, K::switch_, "", "false",
         "extract --files with their archived owners (root only; else the caller owns them)",
         [](R v, Options& o) { o.files_preserve_owner = v.on(); }, 0},
        {"cache-key-file", 0, K::path, "F", "",
         "sign stored results with HMAC-SHA256 under the key in F (every host needs the "
         "same); unsigned or forged results are misses",
         [](R v, Options& o) { o.cache_key_file = v.text(); }, 32},
        {"stale", 0, K::duration, "DUR", "",
         "replay a stored result older than DUR at once, and refresh it in the background",
         [](R v, Options& o) {
             if (!v.text().empty()) o.run.stale = v.duration();
         },
         33},
        {"cache-max-bytes", 0, K::size, "SIZE", "16MiB",
         "larger output (compressed with zstd over 64KiB) is streamed but not cached",
         [](R v, Options& o) { o.run.cache_max_bytes = v.size(); }, 22},
        {"no-holder-command", 0, K::switch_, "", "false",
         "store only the program's name in the holder record, not its arguments",
         [](R v, Options& o) { o.no_holder_command = v.on(); }, 24},
        {"on-lock-lost",
         0,
         K::choice,
         "",
         "term",
         "what happens to the command if the lease cannot be kept",
         [](R v, Options& o) {
             o.run.on_lock_lost =
                 v.choice({OnLockLost::term, OnLockLost::kill, OnLockLost::ignore});
         },
         16,
         {"term", "kill", "ignore"}},
        {"kill-after", 0, K::duration, "DUR", "10s", "grace between SIGTERM and SIGKILL",
         [](R v, Options& o) { o.run.kill_after = v.duration(); }, 17},
        {"on-backend-error",
         0,
         K::choice,
         "",
         "fail",
         "backend unreachable: fail (exit 69), or warn and run unguarded",
         [](R v, Options& o) {
             o.run.run_unguarded_on_backend_error = v.choice({false, true});
         },
         12,
         {"fail", "run"}},
        {"backend",
         0,
         K::choice,
         "",
         "",
         "default: redis if a Redis URL is configured, else local",
         [](R v, Options& o) {
             using B = Options::BackendKind;
             o.backend = v.text().empty() ? B::automatic : v.choice({B::local, B::redis});
         },
         1,
         {"local", "redis"}},
        {"state-dir", 0, K::path, "DIR", "",
         "local backend's directory (default /tmp/lockrun-$UID)",
         [](R v, Options& o) { o.state_dir = v.text(); }, 11},
        {"redis", 0, K::secret_url, "URL", "",
         "redis://[user[:pass]@]host[:port][,host2[:port]...][/db] (cluster seeds), "
         "rediss://..., unix:///path.sock[?db=N], redis+sentinel://s1[,s2...]/MASTER[/db]",
         [](R v, Options& o) {
             o.redis_url = v.text();
             o.redis_url_from_flag = v.value().origin == SettingValue::Origin::flag;
         },
         2},
        {"redis-password-file", 0, K::path, "F", "",
         "read the Redis password from F (keeps it out of argv and ps)",
         [](R v, Options& o) { o.redis_password_file = v.text(); }, 3},
        {"sentinel-password-file", 0, K::path, "F", "",
         "read the Sentinels' own password from F (redis+sentinel://; the URL's is the "
         "master's)",
         [](R v, Options& o) { o.sentinel_password_file = v.text(); }, 31},
        {"tls-ca-file", 0, K::path, "F", "",
         "CA certificates for rediss:// (default: the system's)",
         [](R v, Options& o) { o.tls_ca_file = v.text(); }, 4},
        {"tls-cert-file", 0, K::path, "F", "", "client certificate for mutual TLS",
         [](R v, Options& o) { o.tls_cert_file = v.text(); }, 5},
        {"tls-key-file", 0, K::path, "F", "", "client key for mutual TLS",
         [](R v, Options& o) { o.tls_key_file = v.text(); }, 6},
        {"tls-server-name", 0, K::text, "NAME", "",
         "name the server certificate must carry (default: the URL's host)",
         [](R v, Options& o) { o.tls_server_name = v.text(); }, 7},
        {"connect-timeout", 0, K::duration, "DUR", "2s", "deadline to connect",
         [](R v, Options& o) { o.connect_timeout = positive_duration(v); }, 8},
        {"io-timeout", 0, K::duration, "DUR", "2s", "deadline of every backend call",
         [](R v, Options& o) { o.run.io_timeout = positive_duration(v); }, 9},
        {"min-replicas", 0, K::integer, "N", "0",
         "after acquiring and after storing, wait until N replicas have the write (Redis "
         "WAIT), else exit 69",
         [](R v, Options& o) { o.min_replicas = v.integer(0, 1000); }, 30},
        {"prefix", 0, K::text, "STR", "lockrun:", "namespace of every Redis key",
         [](R v, Options& o) { o.prefix = v.text(); }, 10},
        {"config", 0, K::path, "FILE", "", "TOML config file (see below)", nullptr, 0},
        // Applied with --verbose, by apply_settings: the two speak of one thing.
        {"quiet", 'q', K::switch_, "", "false", "errors only: no warnings, no conflict message",
         nullptr, 25},
        {"verbose", 'v', K::count, "", "0", "more detail: -v info, -vv debug",
         [](R v, Options& o) { o.verbosity = v.integer(0, 2); }, 26},
        {"log-format",
         0,
         K::choice,
         "",
         "text",
         "log lines as text (lockrun: ...) or one JSON object each",
         [](R v, Options& o) {
             o.log_format = v.choice({LogFormat::text, LogFormat::json});
         },
         27,
         {"text", "json"}},
        {"metrics-file", 0, K::path, "F", "",
         "write Prometheus metrics to F (textfile collector): this run's, and the last "
         "success and run counts carried over",
         [](R v, Options& o) { o.metrics_file = v.text(); }, 28},
        {"metrics-label", 0, K::list, "NAME=VALUE", "",
         "a label of every series (repeatable; default job=F's name without .prom; `key` "
         "alone: the key)",
         [](R v, Options& o) { o.metrics_labels = metrics_labels(v); }, 29},
    };
    return specs;
}

const SettingSpec* find_setting(std::string_view name) {
    for (const SettingSpec& spec : setting_specs()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

std::string environment_name(std::string_view setting_name) {
    if (setting_name == "redis") return "LOCKRUN_REDIS_URL";
    std::string name;
    name.reserve(8 + setting_name.size());
    name = "LOCKRUN_";
    // The names are ASCII: no locale to ask (every run builds thirty of these).
    for (char c : setting_name) name += c == '-' ? '_' : c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
    return name;
}

}  // namespace lockrun
