// Command line to Invocation. CLI11 reads the flags; every value, whether it came from a
// flag, the LOCKRUN_* environment or the config file, is then checked by one converter
// (cli/settings_to_options.cpp) whose error names where the bad value came from.

#include <CLI/CLI.hpp>

#include <cstdlib>

#include "cli/options.hpp"
#include "config/resolve.hpp"
#include "core/errors.hpp"
#include "core/key.hpp"

namespace lockrun {
namespace {

// The usage lines of SPEC §2 instead of CLI11's generated one, which cannot show "--".
class UsageFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App* app, std::string name) const override {
        if (app->get_parent() != nullptr) return CLI::Formatter::make_usage(app, name);
        return "Usage: lockrun [OPTIONS] --key KEY [--] COMMAND [ARG...]\n"
               "       lockrun [OPTIONS] --key KEY -c 'SHELL COMMAND'\n"
               "       lockrun status KEY [--json]\n"
               "       lockrun list [--json]\n"
               "       lockrun release KEY --force\n"
               "       lockrun cache show KEY [--json] | lockrun cache drop KEY\n"
               "       lockrun config | lockrun doctor\n";
    }
};

std::string help_footer() {
    return R"(
Runs COMMAND at most once at a time per KEY, across every host that shares the backend,
and lets callers that come while it runs (or until --cache-ttl after it) replay its
stdout and exit code instead of running it again. Use --no-cache for a job that must run
every time it is started but never twice at once.

The command sees LOCKRUN_KEY (the key), LOCKRUN_FENCING_TOKEN (a number that increases
with every acquisition of the key, to hand to the systems it writes; 0 when run unguarded)
and LOCKRUN_LEASE_MS. A caller that replays a result it did not run says so in one line
on stderr (-q hides it).

Exit codes: the command's own (128+N if killed by signal N); 64 usage error; 69 backend
unavailable; 70 internal error; 75 lock not acquired within --wait (see -E); 76 lock lost
while the command ran (another run may have overlapped it); 78 configuration error;
126/127 command not executable/not found.

Settings come from flags, then LOCKRUN_<NAME> in the environment (--cache-ttl:
LOCKRUN_CACHE_TTL; --redis: LOCKRUN_REDIS_URL; switches take 1/true/yes or 0/false/no),
then the TOML config file (--config, $LOCKRUN_CONFIG, $XDG_CONFIG_HOME/lockrun/config.toml,
/etc/lockrun/config.toml; keys are the long names: lease = "30s"), then the defaults.
`lockrun config` shows each effective value and where it came from. See lockrun(1).
)";
}

// What CLI11 binds the setting flags to: texts by setting name, read only for the flags
// that were given.
struct FlagTexts {
    std::map<std::string, std::string> texts;
    std::map<std::string, bool> switches;
    int verbose = 0;
};

void add_setting(CLI::App& app, FlagTexts& flags, const std::string& names,
                 const std::string& setting, const std::string& type, const std::string& help) {
    const SettingSpec* spec = find_setting(setting);
    if (spec->kind == SettingKind::switch_) {
        app.add_flag(names, flags.switches[setting], help);
        return;
    }
    std::string shown_default = spec->default_text.empty() ? "" : std::string(spec->default_text);
    app.add_option(names, flags.texts[setting], help)->type_name(type)->default_str(shown_default);
}

// The setting flags that were given, as SettingValues of origin flag.
SettingValues given_flags(const CLI::App& app, const FlagTexts& flags) {
    SettingValues given;
    for (const SettingSpec& spec : setting_specs()) {
        std::string name(spec.name);
        std::string option = "--" + name;
        if (name == "verbose") {
            if (flags.verbose > 0) {
                given[name] = {std::to_string(std::min(flags.verbose, 2)),
                               SettingValue::Origin::flag, "-v"};
            }
            continue;
        }
        if (app.count(option) == 0) continue;
        std::string text = spec.kind == SettingKind::switch_
                               ? (flags.switches.at(name) ? "true" : "false")
                               : flags.texts.at(name);
        given[name] = {text, SettingValue::Origin::flag, option};
    }
    return given;
}

}  // namespace

Invocation parse_command_line(int argc, const char* const* argv) {
    return parse_command_line(argc, argv, [](const char* name) { return std::getenv(name); });
}

Invocation parse_command_line(int argc, const char* const* argv,
                              const EnvironmentLookup& environment) {
    // What follows the first "--" is never parsed by CLI11 (it would take a subcommand's
    // name there for ours); it is the command, or the end of one that began before it.
    int head_end = 1;
    while (head_end < argc && std::string_view(argv[head_end]) != "--") ++head_end;
    std::vector<std::string> tail(argv + std::min(head_end + 1, argc), argv + argc);
    bool has_separator = head_end < argc;

    Invocation invocation;
    Options& o = invocation.options;
    FlagTexts flags;
    std::string command_string;
    std::string config_flag;

    CLI::App app{"lockrun: run a command once per key, and share its result.", "lockrun"};
    app.footer(help_footer());
    auto formatter = std::make_shared<UsageFormatter>();
    formatter->column_width(34);
    app.formatter(formatter);
    app.set_version_flag("--version", std::string("lockrun ") + LOCKRUN_VERSION);

    // The key belongs to one run, and LOCKRUN_KEY is what the command sees: it has no
    // environment default, so a nested lockrun cannot inherit its parent's key.
    app.add_option("-k,--key", o.key, "the unit of work: 1-512 bytes of printable UTF-8")
        ->type_name("KEY");
    add_setting(app, flags, "--key-from-command", "key-from-command", "",
                "KEY = cmd: + hex SHA-256 of the command's argv (NUL-joined)");
    add_setting(app, flags, "-l,--lease", "lease", "DUR",
                "lock lease, renewed every lease/3 (min 100ms)");
    add_setting(app, flags, "-w,--wait", "wait", "DUR|inf",
                "how long to wait for a held lock; inf: no limit");
    app.add_option("-c,--command-string", command_string, "run STR with /bin/sh -c")
        ->type_name("STR");
    add_setting(app, flags, "-E,--conflict-exit-code", "conflict-exit-code", "N",
                "exit code when the lock is not acquired in time (0-255)");
    add_setting(app, flags, "--no-cache", "no-cache", "",
                "lock only: never read or write the result cache");
    app.add_flag("--refresh", o.refresh, "skip the cache read, run, store the new result");
    add_setting(app, flags, "--cache-failures", "cache-failures", "", "also cache non-zero exits");
    add_setting(app, flags, "--cache-stderr,!--no-cache-stderr", "cache-stderr", "",
                "capture and replay stderr in order with stdout (default) / let it pass "
                "straight through");
    add_setting(app, flags, "--cache-ttl", "cache-ttl", "DUR",
                "lifetime of a cached result; 0: share with waiting callers only");
    add_setting(app, flags, "--cache-max-bytes", "cache-max-bytes", "SIZE",
                "larger output is streamed but not cached");
    add_setting(app, flags, "--no-holder-command", "no-holder-command", "",
                "store only the program's name in the holder record, not its arguments");
    add_setting(app, flags, "--on-lock-lost", "on-lock-lost", "term|kill|ignore",
                "what happens to the command if the lease cannot be kept");
    add_setting(app, flags, "--kill-after", "kill-after", "DUR",
                "grace between SIGTERM and SIGKILL");
    add_setting(app, flags, "--on-backend-error", "on-backend-error", "fail|run",
                "backend unreachable: fail (exit 69), or warn and run unguarded");
    add_setting(app, flags, "--backend", "backend", "local|redis",
                "default: redis if a Redis URL is configured, else local");
    add_setting(app, flags, "--state-dir", "state-dir", "DIR",
                "local backend's directory (default /tmp/lockrun-$UID)");
    add_setting(app, flags, "--redis", "redis", "URL",
                "redis://[user[:pass]@]host[:port][/db], rediss://..., "
                "unix:///path.sock[?db=N]");
    add_setting(app, flags, "--redis-password-file", "redis-password-file", "F",
                "read the Redis password from F (keeps it out of argv and ps)");
    add_setting(app, flags, "--tls-ca-file", "tls-ca-file", "F",
                "CA certificates for rediss:// (default: the system's)");
    add_setting(app, flags, "--tls-cert-file", "tls-cert-file", "F",
                "client certificate for mutual TLS");
    add_setting(app, flags, "--tls-key-file", "tls-key-file", "F", "client key for mutual TLS");
    add_setting(app, flags, "--tls-server-name", "tls-server-name", "NAME",
                "name the server certificate must carry (default: the URL's host)");
    add_setting(app, flags, "--connect-timeout", "connect-timeout", "DUR", "deadline to connect");
    add_setting(app, flags, "--io-timeout", "io-timeout", "DUR", "deadline of every backend call");
    add_setting(app, flags, "--prefix", "prefix", "STR", "namespace of every Redis key");
    app.add_option("--config", config_flag, "TOML config file (see below)")->type_name("FILE");
    add_setting(app, flags, "-q,--quiet", "quiet", "",
                "errors only: no warnings, no conflict message");
    app.add_flag("-v,--verbose", flags.verbose, "more detail: -v info, -vv debug");
    add_setting(app, flags, "--log-format", "log-format", "text|json",
                "log lines as text (lockrun: ...) or one JSON object each");
    add_setting(app, flags, "--metrics-file", "metrics-file", "F",
                "write this run's Prometheus metrics to F (textfile collector)");
    // Like flock(1), options end at the first word that is not one: the command's own
    // options are never taken for ours, with or without "--".
    app.prefix_command();

    // Subcommands (SPEC §7). fallthrough(): the options that configure lockrun may stand
    // before or after a subcommand's name.
    std::string subject;
    auto* status = app.add_subcommand("status", "who holds KEY, and what is cached for it");
    status->add_option("KEY", subject, "the key")->required();
    status->add_flag("--json", invocation.json, "one JSON object, for scripts");
    auto* list = app.add_subcommand("list", "every key with a held lock or a stored result");
    list->add_flag("--json", invocation.json, "one JSON array, for scripts");
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
    auto* config = app.add_subcommand("config", "print every effective setting and its source");
    auto* doctor = app.add_subcommand("doctor", "check that the backend is usable for locks");
    for (CLI::App* subcommand :
         {status, list, release, cache, cache_show, cache_drop, config, doctor}) {
        subcommand->fallthrough();
        subcommand->formatter(formatter);
    }

    try {
        app.parse(head_end, argv);
    } catch (const CLI::CallForHelp&) {
        invocation.action = Invocation::Action::help;
        const CLI::App* asked = &app;
        for (const CLI::App* sub :
             {status, list, release, cache, cache_show, cache_drop, config, doctor}) {
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

    const std::pair<CLI::App*, Invocation::Action> subcommands[] = {
        {status, Invocation::Action::status},         {list, Invocation::Action::list},
        {release, Invocation::Action::release},       {cache_show, Invocation::Action::cache_show},
        {cache_drop, Invocation::Action::cache_drop}, {config, Invocation::Action::config},
        {doctor, Invocation::Action::doctor}};
    for (const auto& [subcommand, action] : subcommands) {
        if (subcommand->parsed()) invocation.action = action;
    }

    std::vector<std::string> rest = app.remaining();
    if (!rest.empty() && rest.front().starts_with("-") && rest.front() != "-") {
        throw UsageError("unknown option " + rest.front() + " (see lockrun --help)");
    }
    if (has_separator && !rest.empty()) rest.push_back("--");
    rest.insert(rest.end(), tail.begin(), tail.end());

    // Flags > LOCKRUN_* > config file > defaults.
    std::optional<std::string> config_path = find_config_file(config_flag, environment);
    SettingValues file = config_path ? read_config_file(*config_path) : SettingValues{};
    invocation.settings = resolve_settings(given_flags(app, flags), file, environment);
    invocation.config_file = config_path;
    apply_settings(invocation.settings, o);

    if (invocation.action != Invocation::Action::run) {
        if (!rest.empty()) {
            throw UsageError("unexpected argument '" + rest.front() + "' (see lockrun --help)");
        }
        if (invocation.action == Invocation::Action::config ||
            invocation.action == Invocation::Action::doctor ||
            invocation.action == Invocation::Action::list) {
            return invocation;
        }
        if (auto problem = key_problem(subject)) throw UsageError("the key " + *problem);
        o.key = subject;
        return invocation;
    }

    o.command = std::move(rest);
    if (!command_string.empty() && !o.command.empty()) {
        throw UsageError("give either -c STRING or a command after --, not both");
    }
    if (!command_string.empty()) o.command = {"/bin/sh", "-c", command_string};
    if (o.command.empty()) {
        throw UsageError("no command to run (give it after --, or as -c 'STRING')");
    }
    // A flag always wins (SPEC §2): key-from-command from the environment or a config file
    // yields to a --key flag; only the two flags together are a contradiction.
    bool key_flag = app.count("--key") > 0;
    if (o.key_from_command && key_flag) {
        if (invocation.settings.at("key-from-command").origin == SettingValue::Origin::flag) {
            throw UsageError("give either --key or --key-from-command, not both");
        }
        o.key_from_command = false;
    }
    if (o.key_from_command) o.key = key_from_command(o.command);
    if (!key_flag && !o.key_from_command) {
        throw UsageError("--key is required (or --key-from-command)");
    }
    if (auto problem = key_problem(o.key)) throw UsageError("the key " + *problem);
    return invocation;
}

}  // namespace lockrun
