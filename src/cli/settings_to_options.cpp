// Settings (texts with their origin) to typed Options, each the way its row of the
// settings table says (config/setting.cpp).

#include "cli/options.hpp"
#include "config/setting_reader.hpp"

namespace lockrun {
namespace {

const SettingValue& value_of(const SettingValues& settings, std::string_view name) {
    auto found = settings.find(name);
    if (found == settings.end()) throw InternalError("no setting named " + std::string(name));
    return found->second;
}

}  // namespace

void apply_settings(const SettingValues& settings, Options& o) {
    for (const SettingSpec& spec : setting_specs()) {
        if (spec.apply) spec.apply(SettingReader(spec, value_of(settings, spec.name)), o);
    }
    // -q and -v speak of one thing: the one from the stronger source wins (a -v flag over
    // quiet = true in the file), and -q with -v on the same level means quiet.
    const SettingValue& quiet = value_of(settings, "quiet");
    bool quiet_wins = SettingReader(*find_setting("quiet"), quiet).on() &&
                      (o.verbosity == 0 || quiet.origin >= value_of(settings, "verbose").origin);
    if (quiet_wins) o.verbosity = -1;
}

}  // namespace lockrun
