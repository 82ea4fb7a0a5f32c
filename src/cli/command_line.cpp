// Command line (and LOCKRUN_* environment) to Options, with CLI11 doing the parsing and
// our validators the checking, so that every bad value is one usage line.

#include <CLI/CLI.hpp>

#include <map>

#include "cli/options.hpp"
#include "core/errors.hpp"
#include "core/key.hpp"
#include "util/size.hpp"

namespace lockrun {
namespace {

constexpr Millis k_min_lease{100};

CLI::Validator duration_validator(bool allow_infinite) {
    return CLI::Validator(
        [allow_infinite](std::string& text) -> std::string {
            if (parse_duration(text, allow_infinite)) return {};
            return "'" + text + "' is not a duration (like 250ms, 30s, 5m, 2h, 1d" +
                   (allow_infinite ? ", inf)" : ")");
        },
        allow_infinite ? "DUR|inf" : "DUR");
}

CLI::Validator size_validator() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            if (parse_size(text)) return {};
            return "'" + text + "' is not a size (like 512, 64KiB, 16MiB)";
        },
        "SIZE");
}

const std::map<std::string, Options::BackendKind> k_backends = {
    {"local", Options::BackendKind::local}, {"redis", Options::BackendKind::redis}};

const std::map<std::string, OnLockLost> k_lock_lost_policies = {
    {"term", OnLockLost::term}, {"kill", OnLockLost::kill}, {"ignore", OnLockLost::ignore}};

template <typename Value>
CLI::Validator choice_validator(const std::map<std::string, Value>& choices) {
    return CLI::Validator(
        [&choices](std::string& text) -> std::string {
            if (choices.contains(text)) return {};
            std::string names;
            for (const auto& [name, value] : choices) names += (names.empty() ? "" : ", ") + name;
            return "'" + text + "' is not one of " + names;
        },
        "");
}

// The usage lines of SPEC §2 instead of CLI11's generated one, which cannot show "--".
class UsageFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App* app, std::string name) const override {
        if (app->get_parent() != nullptr) return CLI::Formatter::make_usage(app, name);
        return "Usage: lockrun [OPTIONS] --key KEY [--] COMMAND [ARG...]\n"
               "       lockrun [OPTIONS] --key KEY -c 'SHELL COMMAND'\n"
               "       lockrun status KEY [--json]\n"
               "       lockrun release KEY --force\n"
               "       lockrun cache show KEY [--json] | lockrun cache drop KEY\n";
    }
};

// A duration option kept as text until parsing succeeded; converted by the validator's
// rules, so the conversion cannot fail.
struct DurationOption {
    std::string text;
    Millis value(bool allow_infinite) const { return *parse_duration(text, allow_infinite); }
};

std::string help_footer() {
    return R"(
Runs COMMAND at most once at a time per KEY, across every host that shares the backend,
and lets callers that come while it runs (or until --cache-ttl after it) replay its
stdout and exit code instead of running it again. Use --no-cache for a job that must run
every time it is started but never twice at once.

Exit codes: the command's own (128+N if killed by signal N); 64 usage error; 69 backend
unavailable; 70 internal error; 75 lock not acquired within --wait (see -E); 76 lock lost
while the command ran; 78 configuration error; 126/127 command not executable/not found.

Every option also reads LOCKRUN_<NAME> from the environment (--cache-ttl:
LOCKRUN_CACHE_TTL; --redis: LOCKRUN_REDIS_URL); a flag on the command line wins.
See lockrun(1).
)";
}

}  // namespace

Invocation parse_command_line(int argc, const char* const* argv) {
    // What follows the first "--" is never parsed by CLI11 (it would take a subcommand's
    // name there for ours); it is the command, or the end of one that began before it.
    int head_end = 1;
    while (head_end < argc && std::string_view(argv[head_end]) != "--") ++head_end;
    std::vector<std::string> tail(argv + std::min(head_end + 1, argc), argv + argc);
    bool has_separator = head_end < argc;

    Invocation invocation;
    Options& o = invocation.options;
    DurationOption lease{"30s"}, wait{"0"}, cache_ttl{"300s"}, kill_after{"10s"},
        connect_timeout{"2s"}, io_timeout{"2s"};
    std::string cache_max_bytes = "16MiB";
    std::string command_string;
    std::string on_lock_lost = "term";
    std::string backend;
    int quiet = 0;

    CLI::App app{"lockrun: run a command once per key, and share its result.", "lockrun"};
    app.footer(help_footer());
    auto formatter = std::make_shared<UsageFormatter>();
    formatter->column_width(34);
    app.formatter(formatter);
    app.set_version_flag("--version", std::string("lockrun ") + LOCKRUN_VERSION);
    app.option_defaults()->always_capture_default();

    // The key belongs to one run, and LOCKRUN_KEY is what the command sees: it has no
    // environment default, so a nested lockrun cannot inherit its parent's key.
    app.add_option("-k,--key", o.key, "the unit of work: 1-512 bytes of printable UTF-8")
        ->type_name("KEY");
    app.add_flag("--key-from-command", o.key_from_command,
                 "KEY = cmd: + hex SHA-256 of the command's argv (NUL-joined)")
        ->envname("LOCKRUN_KEY_FROM_COMMAND");
    app.add_option("-l,--lease", lease.text, "lock lease, renewed every lease/3 (min 100ms)")
        ->check(duration_validator(false))
        ->envname("LOCKRUN_LEASE");
    app.add_option("-w,--wait", wait.text, "how long to wait for a held lock; inf: no limit")
        ->check(duration_validator(true))
        ->envname("LOCKRUN_WAIT");
    app.add_option("-c,--command-string", command_string, "run STR with /bin/sh -c")
        ->type_name("STR");
    app.add_option("-E,--conflict-exit-code", o.conflict_exit_code,
                   "exit code when the lock is not acquired in time")
        ->check(CLI::Range(0, 255))
        ->type_name("N")
        ->envname("LOCKRUN_CONFLICT_EXIT_CODE");
    app.add_flag("--no-cache", o.no_cache, "lock only: never read or write the result cache")
        ->envname("LOCKRUN_NO_CACHE");
    app.add_flag("--refresh", o.refresh, "skip the cache read, run, store the new result");
    app.add_flag("--cache-failures", o.cache_failures, "also cache non-zero exits")
        ->envname("LOCKRUN_CACHE_FAILURES");
    app.add_flag("--cache-stderr", o.cache_stderr, "also capture and replay stderr")
        ->envname("LOCKRUN_CACHE_STDERR");
    app.add_option("--cache-ttl", cache_ttl.text, "lifetime of a cached result")
        ->check(duration_validator(false))
        ->envname("LOCKRUN_CACHE_TTL");
    app.add_option("--cache-max-bytes", cache_max_bytes,
                   "larger output is streamed but not cached")
        ->check(size_validator())
        ->envname("LOCKRUN_CACHE_MAX_BYTES");
    app.add_option("--on-lock-lost", on_lock_lost,
                   "what happens to the command if the lease cannot be kept")
        ->check(choice_validator(k_lock_lost_policies))
        ->type_name("term|kill|ignore")
        ->envname("LOCKRUN_ON_LOCK_LOST");
    app.add_option("--kill-after", kill_after.text, "grace between SIGTERM and SIGKILL")
        ->check(duration_validator(false))
        ->envname("LOCKRUN_KILL_AFTER");
    app.add_option("--backend", backend,
                   "default: redis if a Redis URL is configured, else local")
        ->check(choice_validator(k_backends))
        ->type_name("local|redis")
        ->envname("LOCKRUN_BACKEND");
    app.add_option("--state-dir", o.state_dir,
                   "local backend's directory (default $XDG_RUNTIME_DIR/lockrun, "
                   "else /tmp/lockrun-$UID)")
        ->type_name("DIR")
        ->envname("LOCKRUN_STATE_DIR");
    app.add_option("--redis", o.redis_url,
                   "redis://[user[:pass]@]host[:port][/db] or unix:///path.sock[?db=N]")
        ->type_name("URL")
        ->envname("LOCKRUN_REDIS_URL");
    app.add_option("--connect-timeout", connect_timeout.text, "deadline to connect")
        ->check(duration_validator(false))
        ->envname("LOCKRUN_CONNECT_TIMEOUT");
    app.add_option("--io-timeout", io_timeout.text, "deadline of every backend call")
        ->check(duration_validator(false))
        ->envname("LOCKRUN_IO_TIMEOUT");
    app.add_option("--prefix", o.prefix, "namespace of every Redis key")
        ->type_name("STR")
        ->envname("LOCKRUN_PREFIX");
    app.add_flag("-q,--quiet", quiet, "errors only: no warnings, no conflict message");
    app.add_flag("-v,--verbose", o.verbosity, "more detail: -v info, -vv debug");
    // Like flock(1), options end at the first word that is not one: the command's own
    // options are never taken for ours, with or without "--".
    app.prefix_command();

    // Subcommands (SPEC §7). fallthrough(): the options that configure lockrun may stand
    // before or after a subcommand's name.
    std::string subject;
    auto* status = app.add_subcommand("status", "who holds KEY, and what is cached for it");
    status->add_option("KEY", subject, "the key")->required();
    status->add_flag("--json", invocation.json, "one JSON object, for scripts");
    auto* release = app.add_subcommand("release", "free a stuck lock (needs --force)");
    release->add_option("KEY", subject, "the key")->required();
    release->add_flag("--force", invocation.force, "free it even though a run may hold it");
    auto* cache = app.add_subcommand("cache", "show or drop a cached result");
    cache->require_subcommand(1);
    auto* cache_show = cache->add_subcommand("show", "write the cached stdout of KEY");
    cache_show->add_option("KEY", subject, "the key")->required();
    cache_show->add_flag("--json", invocation.json, "metadata and output as JSON");
    auto* cache_drop = cache->add_subcommand("drop", "remove the cached result of KEY");
    cache_drop->add_option("KEY", subject, "the key")->required();
    for (CLI::App* subcommand : {status, release, cache, cache_show, cache_drop}) {
        subcommand->fallthrough();
        subcommand->formatter(formatter);
    }

    try {
        app.parse(head_end, argv);
    } catch (const CLI::CallForHelp&) {
        invocation.action = Invocation::Action::help;
        const CLI::App* asked = &app;
        for (const CLI::App* sub : {status, release, cache, cache_show, cache_drop}) {
            if (sub->parsed()) asked = sub;
        }
        invocation.text = asked == &app ? app.help() : asked->help();
        return invocation;
    } catch (const CLI::CallForVersion& e) {
        invocation.action = Invocation::Action::version;
        invocation.text = std::string(e.what()) + "\n";
        return invocation;
    } catch (const CLI::ParseError& e) {
        throw UsageError(std::string(e.what()) + " (see lockrun --help)");
    }

    std::vector<std::string> rest = app.remaining();
    if (!rest.empty() && rest.front().starts_with("-") && rest.front() != "-") {
        throw UsageError("unknown option " + rest.front() + " (see lockrun --help)");
    }
    if (has_separator && !rest.empty()) rest.push_back("--");
    rest.insert(rest.end(), tail.begin(), tail.end());
    o.command = std::move(rest);

    const std::pair<CLI::App*, Invocation::Action> subcommands[] = {
        {status, Invocation::Action::status},
        {release, Invocation::Action::release},
        {cache_show, Invocation::Action::cache_show},
        {cache_drop, Invocation::Action::cache_drop}};
    for (const auto& [subcommand, action] : subcommands) {
        if (subcommand->parsed()) invocation.action = action;
    }
    o.lease = lease.value(false);
    if (o.lease < k_min_lease) {
        throw UsageError("--lease " + lease.text + " is below the minimum of 100ms");
    }
    o.wait = wait.value(true);
    o.cache_ttl = cache_ttl.value(false);
    o.kill_after = kill_after.value(false);
    o.connect_timeout = connect_timeout.value(false);
    o.io_timeout = io_timeout.value(false);
    if (o.connect_timeout == Millis(0) || o.io_timeout == Millis(0)) {
        throw UsageError("--connect-timeout and --io-timeout must be more than 0");
    }
    o.cache_max_bytes = *parse_size(cache_max_bytes);
    o.on_lock_lost = k_lock_lost_policies.at(on_lock_lost);
    if (!backend.empty()) o.backend = k_backends.at(backend);
    if (quiet > 0) o.verbosity = -1;

    if (invocation.action != Invocation::Action::run) {
        if (!o.command.empty()) {
            throw UsageError("unexpected argument '" + o.command.front() + "' (see lockrun --help)");
        }
        if (auto problem = key_problem(subject)) throw UsageError("the key " + *problem);
        o.key = subject;
        return invocation;
    }

    if (!command_string.empty() && !o.command.empty()) {
        throw UsageError("give either -c STRING or a command after --, not both");
    }
    if (!command_string.empty()) o.command = {"/bin/sh", "-c", command_string};
    if (o.command.empty()) {
        throw UsageError("no command to run (give it after --, or as -c 'STRING')");
    }
    if (o.key_from_command) {
        if (!o.key.empty()) throw UsageError("give either --key or --key-from-command, not both");
        o.key = key_from_command(o.command);
    }
    if (o.key.empty() && app.count("--key") == 0) {
        throw UsageError("--key is required (or --key-from-command)");
    }
    if (auto problem = key_problem(o.key)) throw UsageError("the key " + *problem);
    return invocation;
}

}  // namespace lockrun
