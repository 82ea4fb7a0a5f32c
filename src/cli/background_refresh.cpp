#include "cli/background_refresh.hpp"

#include <signal.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "exec/spawn_process.hpp"

namespace lockrun {

std::optional<std::string> start_background_refresh(const char* const* argv,
                                                    const BackgroundRefresh& refresh) {
    SpawnPlan plan;
    // This very executable, whatever PATH now finds under its name; without /proc, argv[0].
    plan.programs = program_candidates(argv[0], ::getenv("PATH"));
    plan.programs.insert(plan.programs.begin(), "/proc/self/exe");
    for (const char* const* word = argv; *word != nullptr; ++word) plan.argv.emplace_back(*word);
    // The environment as it is, with this refresh's variable (not one this process inherited).
    plan.environment = environment_with(
        {{k_background_refresh_variable, std::to_string(refresh.stale_fence) + ":" + refresh.key}});
    plan.new_session = true;
    plan.null_standard_streams = true;
    plan.close_other_descriptors = true;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &plan.mask);  // lockrun's own, as it was started
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    if (const SpawnFailure* failure = std::get_if<SpawnFailure>(&started)) {
        return std::string("cannot start the background refresh: ") +
               (failure->step != nullptr ? std::string(failure->step) + ": " : "") +
               std::strerror(failure->error);
    }
    return std::nullopt;
}

std::optional<BackgroundRefresh> background_refresh_of(const EnvironmentLookup& environment) {
    const char* text = environment(k_background_refresh_variable);
    if (text == nullptr) return std::nullopt;
    std::string_view value(text);
    const std::size_t colon = value.find(':');
    if (colon == std::string_view::npos || colon + 1 == value.size()) return std::nullopt;
    BackgroundRefresh refresh;
    auto [end, error] = std::from_chars(value.data(), value.data() + colon, refresh.stale_fence);
    if (error != std::errc() || end != value.data() + colon) return std::nullopt;
    refresh.key = std::string(value.substr(colon + 1));
    return refresh;
}

void log_from_background_refresh(const std::string& message) {
    openlog("lockrun", LOG_PID, LOG_USER);
    syslog(LOG_USER | LOG_WARNING, "%s", message.c_str());
    closelog();
}

}  // namespace lockrun
