// Command line to Invocation, in the steps of parse_command_line below. CLI11 reads the
// flags that the settings table declares; every value, whether it came from a flag, the
// LOCKRUN_* environment or the config file, is then checked by one converter
// (cli/settings_to_options.cpp) whose error names where the bad value came from.

#include <algorithm>
#include <cstdlib>

#include "cli/cli11.hpp"
#include "cli/key_inputs.hpp"
#include "cli/options.hpp"
#include "cli/shared_paths.hpp"
#include "config/resolve.hpp"
#include "core/errors.hpp"
#include "core/key.hpp"
#include "util/duration.hpp"

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
               "       lockrun config [--json] | lockrun doctor [--json]\n";
    }
};

std::string help_footer() {
    return R"(
Runs COMMAND at most once at a time per KEY, across every host that shares the backend,
and lets callers that come while it runs (or until --cache-ttl after it) replay its
stdout and exit code instead of running it again. A caller that waits for a run follows
it live: it prints the run's output as it comes, then exits with the run's status. Use
--no-cache for a job that must run every time it is started but never twice at once.

The command sees LOCKRUN_KEY (the key), LOCKRUN_FENCING_TOKEN (a number that increases
with every acquisition of the key, to hand to the systems it writes; 0 when run unguarded)
and LOCKRUN_LEASE_MS. A caller that replays a result it did not run says so in one line
on stderr (-q hides it).

Exit codes: the command's own (128+N if killed by signal N); 64 usage error; 69 backend
unavailable; 70 internal error; 73 --files could not be written here; 74 the output printed
is incomplete (a follower fell behind the run's kept output, or stdout or stderr refused
it: a full disk); 75 lock not acquired within --wait (see -E); 76 lock lost
while the command ran, or by the run a caller followed (another run may have overlapped
it); 78 configuration error; 126/127 command not executable/not found.

Settings come from flags, then LOCKRUN_<NAME> in the environment (--cache-ttl:
LOCKRUN_CACHE_TTL; --redis: LOCKRUN_REDIS_URL; switches take 1/true/yes or 0/false/no),
then the TOML config file (--config, $LOCKRUN_CONFIG, $XDG_CONFIG_HOME/lockrun/config.toml,
/etc/lockrun/config.toml; keys are the long names: lease = "30s"), then the defaults.
`lockrun config` shows each effective value and where it came from. See lockrun(1).
)";
}

// What CLI11 binds the table's flags to, by setting name; read only for the flags given.
struct FlagValues {
    std::map<std::string, std::string, std::less<>> texts;
    std::map<std::string, bool, std::less<>> switches;
    std::map<std::string, int, std::less<>> counts;
    std::map<std::string, std::vector<std::string>, std::less<>> lists;
};

std::string spelling(const SettingSpec& spec) {
    std::string names = spec.short_flag ? std::string{'-', spec.short_flag, ','} : "";
    names += "--" + std::string(spec.name);
    // A switch that is on by default needs a flag to turn it off.
    if (spec.kind == SettingKind::switch_ && spec.default_text == "true") {
        names += ",!--no-" + std::string(spec.name);
    }
    return names;
}

std::string metavar(const SettingSpec& spec) {
    if (spec.kind != SettingKind::choice) return std::string(spec.metavar);
    std::string choices;
    for (std::string_view choice : spec.choices) {
        choices += (choices.empty() ? "" : "|") + std::string(choice);
    }
    return choices;
}

void add_flag(CLI::App& app, const SettingSpec& spec, FlagValues& values) {
    std::string name(spec.name);
    std::string help(spec.help);
    switch (spec.kind) {
        case SettingKind::switch_:
            app.add_flag(spelling(spec), values.switches[name], help);
            return;
        case SettingKind::count:
            app.add_flag(spelling(spec), values.counts[name], help);
            return;
        case SettingKind::list:
            // One item a use: a second word is the command's, not another item.
            app.add_option(spelling(spec), values.lists[name], help)
                ->type_name(metavar(spec))
                ->allow_extra_args(false);
            return;
        default:
            app.add_option(spelling(spec), values.texts[name], help)
                ->type_name(metavar(spec))
                ->default_str(std::string(spec.default_text));
    }
}

// The argv split at its first "--": CLI11 never sees what follows (it would take a
// subcommand's name there for ours); that is the command, or the end of one that began
// before it.
struct SplitArguments {
    int head_end;  // argv[1, head_end) is for CLI11
    bool has_separator;
    std::vector<std::string> tail;
};

SplitArguments split_at_separator(int argc, const char* const* argv) {
    int head_end = 1;
    while (head_end < argc && std::string_view(argv[head_end]) != "--") ++head_end;
    return {head_end, head_end < argc,
            std::vector<std::string>(argv + std::min(head_end + 1, argc), argv + argc)};
}

// Whether argv[1, end) may name a subcommand, or asks for the help that lists them (and
// every option).
bool may_name_a_subcommand(int end, const char* const* argv) {
    constexpr std::string_view k_words[] = {"status", "list",   "release", "cache",
                                            "config", "doctor", "--help",  "-h"};
    for (int i = 1; i < end; ++i) {
        if (std::ranges::find(k_words, std::string_view(argv[i])) != std::end(k_words)) {
            return true;
        }
    }
    return false;
}

// Whether argv[1, end) may give the flag of `spec`: a word that is its long name (alone,
// with =VALUE, or --no-NAME), or a cluster of short flags that holds its letter. Any word
// may be a value rather than a flag: this errs on the side of yes.
bool may_be_given(const SettingSpec& spec, int end, const char* const* argv) {
    const std::string long_name = "--" + std::string(spec.name);
    const std::string negated = "--no-" + std::string(spec.name);
    for (int i = 1; i < end; ++i) {
        std::string_view word = argv[i];
        if (word.starts_with("--")) {
            std::string_view name = word.substr(0, word.find('='));
            if (name == long_name || name == negated) return true;
        } else if (word.starts_with('-') && spec.short_flag != '\0' &&
                   word.find(spec.short_flag, 1) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

// The CLI11 app: the flags of the settings table, and the subcommands (SPEC §7).
//
// A run (argv names no subcommand and asks for no help) registers only the flags that argv
// may give (may_be_given) and no subcommand: CLI11 checks each option it registers against
// every one before it, and the whole table and the subcommands cost more instructions than
// the rest of a run. A flag that is not given reads the same either way.
class FlagParser {
public:
    FlagParser(Invocation& invocation, int end, const char* const* argv);

    // Parses argv[1, end); false when it asks for help or the version, whose text is then
    // in the invocation.
    bool parse(int end, const char* const* argv, Invocation& invocation);
    Invocation::Action action() const;
    // The table's flags that were given, as SettingValues of origin flag.
    SettingValues given() const;
    // The words after the options: the command, or a subcommand's extra words.
    std::vector<std::string> rest(const SplitArguments& split) const;
    const std::string& subject() const { return subject_; }  // the KEY a subcommand names

private:
    CLI::App app_{"lockrun: run a command once per key, and share its result.", "lockrun"};
    FlagValues values_;
    std::string subject_;
    std::vector<std::pair<CLI::App*, Invocation::Action>> actions_;
    std::vector<CLI::App*> subcommands_;          // every one, for its help
    CLI::App* cache_ = nullptr;                   // whose own subcommand is required
    std::vector<const SettingSpec*> registered_;  // the table's flags CLI11 knows
};

FlagParser::FlagParser(Invocation& invocation, int end, const char* const* argv) {
    const bool everything = may_name_a_subcommand(end, argv);
    app_.footer(help_footer());
    auto formatter = std::make_shared<UsageFormatter>();
    formatter->column_width(34);
    app_.formatter(formatter);
    app_.set_version_flag("--version", std::string("lockrun ") + LOCKRUN_VERSION);
    for (const SettingSpec& spec : setting_specs()) {
        if (!everything && !may_be_given(spec, end, argv)) continue;
        add_flag(app_, spec, values_);
        registered_.push_back(&spec);
    }
    // Like flock(1), options end at the first word that is not one: the command's own
    // options are never taken for ours, with or without "--".
    app_.prefix_command();
    if (!everything) return;

    auto* status = app_.add_subcommand("status", "who holds KEY, and what is cached for it");
    status->add_option("KEY", subject_, "the key")->required();
    status->add_flag("--json", invocation.json, "one JSON object, for scripts");
    auto* list = app_.add_subcommand("list", "every key with a held lock or a stored result");
    list->add_flag("--json", invocation.json, "one JSON array, for scripts");
    auto* release = app_.add_subcommand("release", "free a stuck lock (needs --force)");
    release->add_option("KEY", subject_, "the key")->required();
    release->add_flag("--force", invocation.force, "free it even though a run may hold it");
    auto* cache = app_.add_subcommand("cache", "show or drop a cached result");
    cache->require_subcommand(0, 1);  // none: said in our words by parse()
    auto* cache_show = cache->add_subcommand("show", "write the cached stdout of KEY");
    cache_show->add_option("KEY", subject_, "the key")->required();
    cache_show->add_flag("--json", invocation.json, "metadata and output as JSON");
    auto* cache_drop = cache->add_subcommand("drop", "remove the cached result of KEY");
    cache_drop->add_option("KEY", subject_, "the key")->required();
    auto* config = app_.add_subcommand("config", "print every effective setting and its source");
    config->add_flag("--json", invocation.json, "one JSON object, for scripts");
    auto* doctor = app_.add_subcommand("doctor", "check that the backend is usable for locks");
    doctor->add_flag("--json", invocation.json, "one JSON object, for scripts");
    subcommands_ = {status, list, release, cache, cache_show, cache_drop, config, doctor};
    cache_ = cache;
    // fallthrough(): the options that configure lockrun may stand before or after a
    // subcommand's name.
    for (CLI::App* subcommand : subcommands_) {
        subcommand->fallthrough();
        subcommand->formatter(formatter);
    }
    using A = Invocation::Action;
    actions_ = {{status, A::status},         {list, A::list},
                {release, A::release},       {cache_show, A::cache_show},
                {cache_drop, A::cache_drop}, {config, A::config},
                {doctor, A::doctor}};
}

bool FlagParser::parse(int end, const char* const* argv, Invocation& invocation) {
    try {
        app_.parse(end, argv);
        if (cache_ != nullptr && cache_->parsed() && cache_->get_subcommands().empty()) {
            throw UsageError("cache needs what to do: cache show KEY, or cache drop KEY");
        }
        return true;
    } catch (const CLI::CallForHelp&) {
        invocation.action = Invocation::Action::help;
        const CLI::App* asked = &app_;
        for (const CLI::App* subcommand : subcommands_) {
            if (subcommand->parsed()) asked = subcommand;
        }
        invocation.text = asked == &app_ ? app_.help() : asked->help();
    } catch (const CLI::CallForVersion& e) {
        invocation.action = Invocation::Action::version;
        invocation.text = std::string(e.what()) + "\n";
    } catch (const CLI::ArgumentMismatch& e) {
        // CLI11 says "--key: 1 required KEY missing" of an option given without its value.
        const std::string_view what = e.what();
        if (what.ends_with(" missing") && what.find(": ") != std::string_view::npos) {
            throw UsageError(std::string(what.substr(0, what.find(": "))) +
                             " needs a value (see lockrun --help)");
        }
        throw UsageError(std::string(what) + " (see lockrun --help)");
    } catch (const CLI::ParseError& e) {
        throw UsageError(std::string(e.what()) + " (see lockrun --help)");
    }
    return false;
}

Invocation::Action FlagParser::action() const {
    Invocation::Action action = Invocation::Action::run;
    for (const auto& [subcommand, its_action] : actions_) {
        if (subcommand->parsed()) action = its_action;
    }
    return action;
}

SettingValues FlagParser::given() const {
    SettingValues given;
    for (const SettingSpec* registered : registered_) {
        const SettingSpec& spec = *registered;
        std::string name(spec.name);
        std::string option = "--" + name;
        if (app_.count(option) == 0) continue;
        switch (spec.kind) {
            case SettingKind::switch_:
                given[name] = {values_.switches.at(name) ? "true" : "false",
                               SettingValue::Origin::flag, option};
                break;
            case SettingKind::count:  // -vv is at most 2, and named as the short flag
                given[name] = {std::to_string(std::min(values_.counts.at(name), 2)),
                               SettingValue::Origin::flag, std::string{'-', spec.short_flag}};
                break;
            case SettingKind::list: {
                std::string items;
                for (const std::string& item : values_.lists.at(name)) {
                    // The items are kept one a line: a newline would make two of one.
                    if (item.find('\n') != std::string::npos) {
                        throw UsageError(option + " '" + item + "' contains a newline");
                    }
                    // An empty item would vanish among the others without a word.
                    if (item.empty()) throw UsageError(option + " needs a value, not ''");
                    items += (items.empty() ? "" : "\n") + item;
                }
                given[name] = {items, SettingValue::Origin::flag, option};
                break;
            }
            default:
                given[name] = {values_.texts.at(name), SettingValue::Origin::flag, option};
        }
    }
    return given;
}

std::vector<std::string> FlagParser::rest(const SplitArguments& split) const {
    std::vector<std::string> rest = app_.remaining();
    if (!rest.empty() && rest.front().starts_with("-") && rest.front() != "-") {
        throw UsageError("unknown option " + rest.front() + " (see lockrun --help)");
    }
    if (split.has_separator && !rest.empty()) rest.push_back("--");
    rest.insert(rest.end(), split.tail.begin(), split.tail.end());
    return rest;
}

// Flags > LOCKRUN_* > config file > defaults, each value with its origin.
void resolve_with_origins(Invocation& invocation, const SettingValues& flags,
                          const EnvironmentLookup& environment) {
    auto config_flag = flags.find("config");
    invocation.config_file =
        find_config_file(config_flag == flags.end() ? "" : config_flag->second.text, environment);
    SettingValues file =
        invocation.config_file ? read_config_file(*invocation.config_file) : SettingValues{};
    invocation.settings = resolve_settings(flags, file, environment);
}

// KEY:in-<digest> when the run's inputs are part of the key (SPEC §1); the whole key must
// still be a key.
void add_key_inputs(Options& o, const EnvironmentLookup& environment) {
    if (o.key_inputs.empty()) return;
    const std::string suffix = key_inputs_suffix(o.key_inputs, environment);
    o.run.key += suffix;
    // The key alone was checked: only its length can fail now.
    if (auto problem = key_problem(o.run.key)) {
        throw UsageError("the key " + *problem + " with the " + std::to_string(suffix.size()) +
                         " bytes of its inputs' digest (" + suffix.substr(0, 4) + "…): shorten it");
    }
}

// A subcommand takes no command; most name a KEY.
void take_subject(Invocation& invocation, const std::vector<std::string>& rest,
                  const std::string& subject, const EnvironmentLookup& environment) {
    if (!rest.empty()) {
        throw UsageError("unexpected argument '" + rest.front() + "' (see lockrun --help)");
    }
    using A = Invocation::Action;
    if (invocation.action == A::config || invocation.action == A::doctor ||
        invocation.action == A::list) {
        return;
    }
    if (auto problem = key_problem(subject)) throw UsageError("the key " + *problem);
    invocation.options.run.key = subject;
    add_key_inputs(invocation.options, environment);
}

// The command: the words after the options, or -c's (which the table applied), not both.
void take_command(Options& o, std::vector<std::string> rest) {
    if (!rest.empty() && !o.run.command.argv.empty()) {
        throw UsageError("give either -c STRING or a command after --, not both");
    }
    if (!rest.empty()) o.run.command.argv = std::move(rest);
    if (o.run.command.argv.empty()) {
        throw UsageError("no command to run (give it after --, or as -c 'STRING')");
    }
}

// --key, or the key made from the command. A flag always wins (SPEC §2): key-from-command
// from the environment or a config file yields to a --key flag; only the two flags
// together are a contradiction.
void choose_key(Invocation& invocation, const EnvironmentLookup& environment) {
    Options& o = invocation.options;
    bool key_flag = invocation.settings.at("key").origin == SettingValue::Origin::flag;
    if (o.key_from_command && key_flag) {
        if (invocation.settings.at("key-from-command").origin == SettingValue::Origin::flag) {
            throw UsageError("give either --key or --key-from-command, not both");
        }
        o.key_from_command = false;
    }
    if (o.key_from_command) o.run.key = key_from_command(o.run.command.argv);
    if (!key_flag && !o.key_from_command) {
        throw UsageError("--key is required (or --key-from-command)");
    }
    if (auto problem = key_problem(o.run.key)) throw UsageError("the key " + *problem);
    add_key_inputs(o, environment);
}

// --stale needs results to be stored, and for longer than DUR (SPEC §1). Who loses when
// it cannot apply follows SPEC §2: a flag against a flag or a default is a usage error; a
// setting of the environment or a config file never makes a flag an error (the flag wins,
// and --stale is dropped, with a warning if --stale was the flag); two such settings
// against each other are a configuration error naming them.
void check_stale(Invocation& invocation) {
    Options& o = invocation.options;
    if (!o.run.stale) return;
    std::string problem;
    std::string other;
    if (!o.run.use_cache) {
        other = "no-cache";
        problem = "needs the cache, which --no-cache turns off";
    } else if (*o.run.stale >= o.run.cache_ttl) {
        other = "cache-ttl";
        problem = "is not shorter than --cache-ttl " + format_duration(o.run.cache_ttl) +
                  ": no result would ever be stale";
    } else {
        return;
    }
    using Origin = SettingValue::Origin;
    const SettingValue& stale = invocation.settings.at("stale");
    const SettingValue& with = invocation.settings.at(other);
    const std::string given = "--stale " + format_duration(*o.run.stale) + " " + problem;
    const bool chosen_elsewhere = with.origin == Origin::environment || with.origin == Origin::file;
    if (stale.origin == Origin::flag && !chosen_elsewhere) throw UsageError(given);
    if (stale.origin != Origin::flag && with.origin != Origin::flag) {
        throw ConfigError(stale.where + ": " + given +
                          (with.origin == Origin::default_value ? "" : " (" + with.where + ")"));
    }
    if (stale.origin == Origin::flag) {
        invocation.warnings.push_back(given + " (set by " + with.where + "): not applied");
    }
    o.run.stale.reset();
}

// -n N and --shared are lock-only (SPEC §9): nothing is stored or shared, so the options of
// the cache given as flags contradict them; those of the environment or a config file are
// not applied.
void check_max_holders(Invocation& invocation) {
    Options& o = invocation.options;
    if (o.run.max_holders <= 1 && !o.run.shared) return;
    if (o.run.shared && o.run.max_holders > 1) {
        throw UsageError("--shared and -n " + std::to_string(o.run.max_holders) +
                         " do not go together: readers are not counted");
    }
    const std::string option =
        o.run.shared ? "--shared" : "-n " + std::to_string(o.run.max_holders);
    const std::string what = o.run.shared ? "a shared hold" : "a semaphore";
    for (std::string_view name : {"refresh", "cache-failures", "cache-ttl", "cache-max-bytes",
                                  "cache-stderr", "stale", "files", "cache-key-file"}) {
        const SettingValue& value = invocation.settings.at(std::string(name));
        if (value.origin != SettingValue::Origin::flag) continue;
        throw UsageError(option + " is " + what + ", lock only (no result is stored or shared): " +
                         value.where + " does not apply to it");
    }
    o.run.use_cache = false;
    o.run.stale.reset();
    o.run.files.clear();
}

// --files needs the cache. Both as flags they contradict each other; a --no-cache of the
// environment or a config file yields to the flag (SPEC §2), with a warning.
void check_files(Invocation& invocation) {
    Options& o = invocation.options;
    if (o.run.files.empty()) return;
    o.run.files = shared_paths(o.run.files);
    if (o.run.use_cache) return;
    const SettingValue& no_cache = invocation.settings.at("no-cache");
    if (no_cache.origin == SettingValue::Origin::flag) {
        throw UsageError("--files shares files through the cache, which --no-cache turns off");
    }
    invocation.warnings.push_back("--files needs the cache: " + no_cache.where +
                                  " is not applied to this run");
    o.run.use_cache = true;
}

}  // namespace

namespace {

bool is_subcommand_word(std::string_view word) {
    for (std::string_view name : {"status", "list", "release", "cache", "config", "doctor"}) {
        if (word == name) return true;
    }
    return false;
}

// Where lockrun's own words end in argv, as far as can be told without parsing: at "--",
// or at the first word that is neither an option nor an option's value (the command of a
// run, whose own --json or --log-format are not ours). After a subcommand's name every
// word is lockrun's.
int end_of_own_words(int argc, const char* const* argv) {
    int end = split_at_separator(argc, argv).head_end;
    for (int i = 1; i < end; ++i) {
        std::string_view word = argv[i];
        if (is_subcommand_word(word)) return end;
        if (!word.starts_with('-') || word == "-") return i;
        const SettingSpec* spec = nullptr;
        if (word.starts_with("--")) {
            if (word.find('=') != std::string_view::npos) continue;
            spec = find_setting(word.substr(2));
        } else if (word.size() == 2) {
            for (const SettingSpec& s : setting_specs()) {
                if (s.short_flag == word[1]) spec = &s;
            }
        }
        bool takes_a_value =
            spec && spec->kind != SettingKind::switch_ && spec->kind != SettingKind::count;
        if (takes_a_value) ++i;
    }
    return end;
}

}  // namespace

LogFormat log_format_before_parsing(int argc, const char* const* argv,
                                    const EnvironmentLookup& environment) {
    int end = end_of_own_words(argc, argv);
    // The flag, if given, wins over the environment (SPEC §2), whichever format it names.
    for (int i = 1; i < end; ++i) {
        std::string_view word = argv[i];
        if (word.starts_with("--log-format=")) {
            return word.substr(13) == "json" ? LogFormat::json : LogFormat::text;
        }
        if (word == "--log-format" && i + 1 < end) {
            return std::string_view(argv[i + 1]) == "json" ? LogFormat::json : LogFormat::text;
        }
    }
    const char* variable = environment("LOCKRUN_LOG_FORMAT");
    return variable && std::string_view(variable) == "json" ? LogFormat::json : LogFormat::text;
}

bool json_document_before_parsing(int argc, const char* const* argv) {
    int end = end_of_own_words(argc, argv);
    bool json = false;
    for (int i = 1; i < end; ++i) json = json || std::string_view(argv[i]) == "--json";
    return json && may_name_a_subcommand(end, argv);
}

Invocation parse_command_line(int argc, const char* const* argv) {
    return parse_command_line(argc, argv, [](const char* name) { return std::getenv(name); });
}

Invocation parse_command_line(int argc, const char* const* argv,
                              const EnvironmentLookup& environment) {
    Invocation invocation;
    // CLI11 reads the flags of the table before the first "--", and picks the action.
    SplitArguments split = split_at_separator(argc, argv);
    FlagParser flags(invocation, split.head_end, argv);
    if (!flags.parse(split.head_end, argv, invocation)) return invocation;  // help, version
    invocation.action = flags.action();
    std::vector<std::string> rest = flags.rest(split);
    // Every setting with its origin, then each converted and checked into Options.
    resolve_with_origins(invocation, flags.given(), environment);
    apply_settings(invocation.settings, invocation.options);
    // What the settings cannot check alone: a subcommand's KEY, or the command and its key.
    if (invocation.action != Invocation::Action::run) {
        take_subject(invocation, rest, flags.subject(), environment);
        return invocation;
    }
    take_command(invocation.options, std::move(rest));
    choose_key(invocation, environment);
    check_max_holders(invocation);
    // --files may turn the cache back on, which --stale needs.
    check_files(invocation);
    check_stale(invocation);
    return invocation;
}

}  // namespace lockrun
