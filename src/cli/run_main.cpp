#include "cli/run_main.hpp"

#include <cstdlib>
#include <memory>
#include <optional>

#include "backend/local/local_backend.hpp"
#include "backend/local/local_doctor.hpp"
#include "backend/local/state_dir.hpp"
#include "backend/redis/redis_backend.hpp"
#include "backend/redis/redis_doctor.hpp"
#include "cli/backend_choice.hpp"
#include "cli/background_refresh.hpp"
#include "cli/doctor.hpp"
#include "cli/metrics_file.hpp"
#include "cli/operator_commands.hpp"
#include "cli/options.hpp"
#include "cli/secret_file.hpp"
#include "cli/show_config.hpp"
#include "cli/standard_output.hpp"
#include "cli/terminal_reporter.hpp"
#include "core/errors.hpp"
#include "core/single_flight.hpp"
#include "exec/host_identity.hpp"
#include "exec/openssl_companion.hpp"
#include "exec/signal_watch.hpp"
#include "exec/standard_streams.hpp"
#include "exec/supervisor.hpp"
#include "files/disk_files.hpp"
#include "util/json.hpp"
#include "util/one_line.hpp"
#include "util/random_token.hpp"
#include "util/trace_context.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

constexpr std::size_t k_min_cache_key_bytes = 32;

// The URL, with the password from --redis-password-file or LOCKRUN_REDIS_PASSWORD when
// the URL itself has none (SPEC §2).
RedisUrl redis_url_with_password(const Options& o, Reporter& reporter) {
    RedisUrl url = parse_redis_url(o.redis_url);
    if (!url.password.empty()) {
        if (o.redis_url_from_flag) {
            reporter.warn(
                "the password in --redis is visible to every user in ps; use "
                "LOCKRUN_REDIS_PASSWORD or --redis-password-file");
        }
        return url;
    }
    if (!o.redis_password_file.empty()) {
        url.password = read_secret_file(o.redis_password_file, "--redis-password-file");
    } else if (const char* password = std::getenv("LOCKRUN_REDIS_PASSWORD")) {
        url.password = password;
    }
    return url;
}

// The Sentinels' own password (SPEC §8: it may differ from the master's, which the URL,
// --redis-password-file or LOCKRUN_REDIS_PASSWORD give): --sentinel-password-file, else
// LOCKRUN_SENTINEL_PASSWORD, else none.
std::string sentinel_password(const Options& o) {
    if (!o.sentinel_password_file.empty()) {
        return read_secret_file(o.sentinel_password_file, "--sentinel-password-file");
    }
    const char* password = std::getenv("LOCKRUN_SENTINEL_PASSWORD");
    return password ? password : "";
}

bool uses_redis(const Options& o) {
    return o.backend == Options::BackendKind::redis ||
           (o.backend == Options::BackendKind::automatic && !o.redis_url.empty());
}

// Whether this invocation signs or checks records with --cache-key-file. Freeing a stuck
// lock or dropping a result reads no record: an operator who cannot read the key file must
// still be able to.
bool seals_records(const Invocation& invocation) {
    using A = Invocation::Action;
    return !invocation.options.cache_key_file.empty() && invocation.action != A::release &&
           invocation.action != A::cache_drop;
}

// What only lockrun-openssl can do, when this run asks for it: TLS to Redis, and records
// signed with --cache-key-file.
std::optional<std::string> openssl_use(const Invocation& invocation) {
    const Options& o = invocation.options;
    if (invocation.action == Invocation::Action::config) return std::nullopt;  // connects nowhere
    if (seals_records(invocation)) return "--cache-key-file";
    if (!uses_redis(o)) return std::nullopt;
    try {
        RedisUrl url = parse_redis_url(o.redis_url);
        if (url.transport == RedisUrl::Transport::tls) return "TLS to " + url.redacted();
    } catch (const ConfigError&) {
        // This lockrun says what is wrong with the URL.
    }
    return std::nullopt;
}

std::string state_dir_of(const Options& o) {
    return o.state_dir.empty() ? default_state_dir() : o.state_dir;
}

// A TLS setting beside a redis:// URL would leave the connection (and AUTH) in clear
// text while the user believes it encrypted: refused, naming the setting and the scheme.
void refuse_tls_settings_without_tls(const RedisUrl& url, const SettingValues& settings) {
    if (url.transport == RedisUrl::Transport::tls) return;
    for (const char* name : {"tls-ca-file", "tls-cert-file", "tls-key-file", "tls-server-name"}) {
        const SettingValue& value = settings.at(name);
        if (value.text.empty()) continue;
        throw ConfigError(value.where + " sets " + name + ", but the Redis URL " + url.redacted() +
                          " does not use TLS: the connection would not be encrypted (use "
                          "rediss://, or remove the setting)");
    }
}

ConnectionSettings connection_settings(const Invocation& invocation, Reporter& reporter) {
    const Options& o = invocation.options;
    if (o.redis_url.empty()) {
        throw ConfigError(
            "--backend redis needs a server: give --redis URL or set "
            "LOCKRUN_REDIS_URL");
    }
    RedisUrl url = redis_url_with_password(o, reporter);
    refuse_tls_settings_without_tls(url, invocation.settings);
    // Only a Sentinel URL has Sentinels: their password file is not read for any other.
    std::string sentinels_password = url.sentinel_master.empty() ? "" : sentinel_password(o);
    return {std::move(url),
            o.connect_timeout,
            o.run.io_timeout,
            {o.tls_ca_file, o.tls_cert_file, o.tls_key_file, o.tls_server_name},
            {},
            o.min_replicas,
            std::move(sentinels_password)};
}

int run_doctor(const Invocation& invocation, TerminalReporter& reporter) {
    const Options& o = invocation.options;
    if (!uses_redis(o))
        return report_diagnosis(diagnose_local(state_dir_of(o)), "local", invocation.json);
    return report_diagnosis(
        diagnose_redis(connection_settings(invocation, reporter), o.prefix, o.run.key), "redis",
        invocation.json);
}

// --min-replicas asks for Redis replicas; on the local backend it could only be ignored.
void refuse_min_replicas_without_redis(const Invocation& invocation) {
    if (invocation.options.min_replicas == 0) return;
    const SettingValue& value = invocation.settings.at("min-replicas");
    std::string message = value.where +
                          " asks for replicas, but the local backend has none (use "
                          "--backend redis, or remove it)";
    if (value.origin == SettingValue::Origin::flag) throw UsageError(message);
    throw ConfigError(message);
}

// --cache-key-file: read like a password file (78 when it cannot be read), and long enough
// that it cannot be guessed.
RecordSeal record_seal(const Invocation& invocation) {
    const Options& o = invocation.options;
    if (!seals_records(invocation)) return {};
    std::string secret = read_secret_file(o.cache_key_file, "--cache-key-file");
    if (secret.size() < k_min_cache_key_bytes) {
        throw ConfigError("--cache-key-file " + o.cache_key_file + " holds " +
                          std::to_string(secret.size()) + " bytes; a key needs at least " +
                          std::to_string(k_min_cache_key_bytes) +
                          " (make one with: head -c 32 /dev/urandom | base64 > FILE)");
    }
    return RecordSeal(std::move(secret));
}

std::unique_ptr<Backend> make_backend(const Invocation& invocation, InterruptSource& interrupt,
                                      Reporter& reporter) {
    const Options& o = invocation.options;
    if (!uses_redis(o)) {
        refuse_min_replicas_without_redis(invocation);
        return std::make_unique<LocalBackend>(state_dir_of(o), o.run.key, &interrupt,
                                              record_seal(invocation));
    }
    return std::make_unique<RedisBackend>(connection_settings(invocation, reporter), o.prefix,
                                          o.run.key, &interrupt, record_seal(invocation));
}

// The command does not inherit lockrun's secrets: LOCKRUN_REDIS_PASSWORD is left out, and
// LOCKRUN_REDIS_URL is passed on without its password. A nested lockrun reads its
// credentials from the config file or a password file.
void keep_secrets_from_the_command(CommandSpec& command) {
    command.removed_environment.emplace_back("LOCKRUN_REDIS_PASSWORD");
    command.removed_environment.emplace_back("LOCKRUN_SENTINEL_PASSWORD");
    command.removed_environment.emplace_back(k_background_refresh_variable);
    const char* url_text = std::getenv("LOCKRUN_REDIS_URL");
    if (url_text == nullptr) return;
    try {
        RedisUrl url = parse_redis_url(url_text);
        if (url.password.empty()) return;
        url.password.clear();
        command.extra_environment.emplace_back("LOCKRUN_REDIS_URL", url.redacted());
    } catch (const ConfigError&) {
        // Not a URL lockrun can read, so not one it used; it may still hold a secret.
        command.removed_environment.emplace_back("LOCKRUN_REDIS_URL");
    }
}

// Writes --metrics-file whatever way the run ended; a file that cannot be written is a
// warning, never a change of the run's exit status.
void write_metrics(const Options& o, const RunSummary& summary, TerminalReporter& reporter) {
    if (o.metrics_file.empty()) return;
    try {
        PrometheusLabels labels = series_labels(o.metrics_file, o.metrics_labels, o.run.key);
        if (auto warning = update_metrics_file(o.metrics_file, labels, summary,
                                               static_cast<double>(unix_now_ms()) / 1000)) {
            reporter.warn(*warning);
        }
    } catch (const Error& e) {
        reporter.warn(e.what());
    }
}

// The run's decision, carried by every later log line (the error line that may follow):
// for JSON logs and the last line of -v.
void add_outcome_context(TerminalReporter& reporter, const RunSummary& summary) {
    reporter.add_context("outcome", std::string(outcome_name(summary.outcome)));
    if (summary.exit_code) reporter.add_context("exit_code", *summary.exit_code);
    reporter.add_context("waited_ms", summary.waited.count());
    reporter.add_context("ran_ms", summary.ran.count());
    if (summary.fence) reporter.add_context("fence", static_cast<std::int64_t>(*summary.fence));
}

// A background refresh (--stale) has no terminal: what went wrong goes to syslog, and
// finding the key held or already refreshed is no news. Only a run writes metrics.
bool is_background_refresh(const Options& o) {
    return o.run.refresh_of_fence.has_value();
}

// `stale_fence`: the fence of a stale result it replayed and claimed the refresh of, for
// run_main to start once the signal handling of the run is undone.
int run_command(const Invocation& invocation, TerminalReporter& reporter,
                std::optional<std::uint64_t>& stale_fence) {
    const Options& o = invocation.options;
    // From here on, a signal is a value the loops poll for, not an interruption.
    SignalWatch signals;
    RunSummary summary;
    try {
        reporter.info(o.run.key + ": using " + choose_backend(o, invocation.settings).description);
        std::unique_ptr<Backend> backend = make_backend(invocation, signals, reporter);
        Supervisor supervisor(signals);

        SingleFlightSettings settings = o.run;
        keep_secrets_from_the_command(settings.command);
        settings.token = random_token();
        settings.me = current_holder(o.run.command.argv, !o.no_holder_command);
        DiskFiles files(o.files_preserve_owner);
        SingleFlightOutcome outcome =
            run_single_flight(settings, *backend, supervisor, files, reporter);
        summary = summary_of(outcome);
        if (outcome.failure) std::rethrow_exception(outcome.failure);
        // Claimed, the refresh is this caller's to start, whatever became of its own output.
        stale_fence = outcome.stale_fence;
        if (const auto& why =
                outcome.output_failed ? outcome.output_failed : reporter.output_failed()) {
            throw Error(exit_code::k_output_incomplete,
                        o.run.key + ": its output could not be written to " + *why +
                            "; what was printed is incomplete (the command's status: " +
                            std::to_string(outcome.exit_status) + ")");
        }
        if (is_background_refresh(o)) {
            if (outcome.kind != SingleFlightOutcome::Kind::ran) return outcome.exit_status;
            if (outcome.exit_status != 0) {
                log_from_background_refresh(
                    o.run.key + ": the background refresh of its stale result failed (exit " +
                    std::to_string(outcome.exit_status) + "); the old result stays");
            } else if (!outcome.stored) {
                log_from_background_refresh(
                    o.run.key +
                    ": the background refresh of its stale result ran (exit 0) but "
                    "stored nothing (its output over --cache-max-bytes?); the old "
                    "result stays");
            }
        }
        write_metrics(o, summary, reporter);
        add_outcome_context(reporter, summary);
        reporter.info(o.run.key + ": " + std::string(outcome_name(summary.outcome)) + ", exit " +
                      std::to_string(outcome.exit_status));
        return outcome.exit_status;
    } catch (const Error& e) {
        if (dynamic_cast<const Interrupted*>(&e)) {
            summary.outcome = RunSummary::Outcome::interrupted;
        } else if (dynamic_cast<const BackendUnavailable*>(&e)) {
            summary.outcome = RunSummary::Outcome::backend_error;
        } else if (summary.outcome != RunSummary::Outcome::lost) {
            summary.outcome = RunSummary::Outcome::error;
        }
        summary.exit_code = e.exit_code();
        write_metrics(o, summary, reporter);
        add_outcome_context(reporter, summary);
        throw;
    }
}

int run_operator_command(const Invocation& invocation, TerminalReporter& reporter) {
    const Options& o = invocation.options;
    SignalWatch signals;
    std::unique_ptr<Backend> backend = make_backend(invocation, signals, reporter);
    switch (invocation.action) {
        case Invocation::Action::status:
            return show_status(*backend, o.run.key, invocation.json,
                               choose_backend(o, invocation.settings));
        case Invocation::Action::list:
            return list_keys(*backend, invocation.json, reporter);
        case Invocation::Action::release:
            return release_lock(*backend, o.run.key, invocation.force);
        case Invocation::Action::cache_show:
            return show_cached_result(*backend, o.run.key, invocation.json, reporter);
        case Invocation::Action::cache_drop:
            return drop_cached_result(*backend, o.run.key);
        default:
            throw InternalError("no handler for this subcommand");
    }
}

// What every JSON log line of this invocation carries: the key, this host, and the trace
// and span that TRACEPARENT names (one that does not parse is ignored, never an error).
// Text lines carry none of it: a run with text logs makes no host lookup for it.
void add_invocation_context(TerminalReporter& reporter, LogFormat format, const std::string& key) {
    if (format != LogFormat::json) return;
    if (!key.empty()) reporter.add_context("key", key);
    reporter.add_context("host", this_host_name());
    if (const char* header = std::getenv("TRACEPARENT")) {
        if (auto trace = parse_traceparent(header)) {
            reporter.add_context("trace_id", trace->trace_id);
            reporter.add_context("span_id", trace->span_id);
        }
    }
}

// Where an invocation is when an error ends it.
struct FailureContext {
    int argc;
    const char* const* argv;
    std::optional<TerminalReporter>& reporter;  // none yet when the command line was bad
    std::optional<bool> json_document;          // known once the command line was read
    std::string key;
};

// {"key": KEY, "error": {"message", "exit_code"}} on stdout, for a subcommand's --json.
void print_error_document(const std::string& message, int code, const FailureContext& at) {
    JsonObject document;
    if (!at.key.empty()) document.string("key", at.key);
    document.raw("error", JsonObject().string("message", message).number("exit_code", code).str());
    try {
        print_to_stdout(document.str() + "\n");
    } catch (const OutputIncomplete&) {
        // stdout refuses it too (the failure may be that very refusal): stderr says why.
    }
}

// The one place an error becomes lockrun's exit status: one line on stderr (a JSON object
// with --log-format json, even for a bad command line), and for a subcommand's --json the
// JSON document on stdout that says so.
int failed(const std::string& message, int code, FailureContext& at) {
    if (!at.reporter) {
        LogFormat format = log_format_before_parsing(at.argc, at.argv,
                                                     [](const char* n) { return std::getenv(n); });
        at.reporter.emplace(0, format);
        add_invocation_context(*at.reporter, format, "");
    }
    at.reporter->error(message);
    if (at.json_document.value_or(json_document_before_parsing(at.argc, at.argv))) {
        print_error_document(message, code, at);
    }
    return code;
}

// The refresh of a stale result that this caller replayed and claimed, if it did: started
// once the run's signal handling is undone (run_command has returned), so that it starts
// with the mask and dispositions that lockrun was started with.
void start_claimed_refresh(const char* const* argv, const std::optional<std::uint64_t>& stale_fence,
                           const std::string& key, TerminalReporter& reporter) {
    if (!stale_fence) return;
    if (auto trouble = start_background_refresh(argv, {*stale_fence, key})) {
        reporter.warn(key + ": " + *trouble);
    }
}

// The refresh started by a caller that replayed a stale result: run again under the lock,
// storing the new result, unless another run holds the key (then nothing, at once).
void become_background_refresh(Invocation& invocation, const BackgroundRefresh& refresh) {
    SingleFlightSettings& run = invocation.options.run;
    run.key = refresh.key;
    run.refresh = true;
    run.wait = Millis(0);
    run.stale.reset();
    run.refresh_of_fence = refresh.stale_fence;
}

// A background refresh that cannot even start its run (its settings, its backend) says so
// in syslog: nobody sees its standard error.
int refresh_failed(const std::string& message, int code) {
    log_from_background_refresh("the background refresh of a stale result failed: " + message +
                                "; the old result stays");
    return code;
}

}  // namespace

int run_main(int argc, const char* const* argv, bool openssl_linked_in) {
    if (!open_closed_standard_streams()) return exit_code::k_internal;  // nowhere to say so
    std::optional<TerminalReporter> reporter;
    FailureContext at{argc, argv, reporter, std::nullopt, ""};
    const std::optional<BackgroundRefresh> refresh = background_refresh_of(std::getenv);
    try {
        Invocation invocation = parse_command_line(argc, argv);
        if (refresh) become_background_refresh(invocation, *refresh);
        if (invocation.action == Invocation::Action::help ||
            invocation.action == Invocation::Action::version) {
            print_to_stdout(invocation.text);
            return 0;
        }
        // Before anything is said or done, so that lockrun-openssl starts this run afresh.
        if (!openssl_linked_in) {
            if (auto use = openssl_use(invocation)) become_openssl_companion(argv, *use);
        }
        const Options& o = invocation.options;
        at.json_document = invocation.json;
        at.key = o.run.key;
        reporter.emplace(o.verbosity, o.log_format);
        for (const std::string& warning : invocation.warnings) reporter->warn(warning);
        add_invocation_context(*reporter, o.log_format, o.run.key);
        switch (invocation.action) {
            case Invocation::Action::run: {
                std::optional<std::uint64_t> stale_fence;
                int status = 0;
                try {
                    status = run_command(invocation, *reporter, stale_fence);
                } catch (const Error&) {
                    // A replay whose stdout failed (74) has still claimed the refresh.
                    start_claimed_refresh(argv, stale_fence, o.run.key, *reporter);
                    throw;
                }
                start_claimed_refresh(argv, stale_fence, o.run.key, *reporter);
                return status;
            }
            case Invocation::Action::config:
                return show_config(invocation);
            case Invocation::Action::doctor:
                return run_doctor(invocation, *reporter);
            default:
                return run_operator_command(invocation, *reporter);
        }
    } catch (const Interrupted& e) {
        // The user asked us to stop while waiting: the signal's own status, no message (but
        // the document that a subcommand's --json promises).
        if (at.json_document.value_or(false)) print_error_document(e.what(), e.exit_code(), at);
        return e.exit_code();
    } catch (const Error& e) {
        if (refresh) return refresh_failed(refresh->key + ": " + e.what(), e.exit_code());
        return failed(e.what(), e.exit_code(), at);
    } catch (const std::exception& e) {
        if (refresh) return refresh_failed("internal error: " + one_line(e.what()), 70);
        return failed("internal error: " + one_line(e.what()) + " (please report it)",
                      exit_code::k_internal, at);
    }
}

}  // namespace lockrun
