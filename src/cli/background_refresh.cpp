#include "cli/background_refresh.hpp"

#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <vector>

#include "exec/spawn_settings.hpp"

extern char** environ;

namespace lockrun {

std::optional<std::string> start_background_refresh(const char* const* argv,
                                                    const BackgroundRefresh& refresh) {
    SpawnAttributes attributes;
    posix_spawnattr_setflags(&attributes.attributes, POSIX_SPAWN_SETSID);
    SpawnFileActions files;
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
        posix_spawn_file_actions_addopen(&files.actions, fd, "/dev/null", O_RDWR, 0);
    }
    posix_spawn_file_actions_addclosefrom_np(&files.actions, 3);
    // The environment as it is, but for a refresh variable this process may have inherited.
    const std::string marker = std::string(k_background_refresh_variable) + "=";
    const std::string mine = marker + std::to_string(refresh.stale_fence) + ":" + refresh.key;
    std::vector<char*> environment;
    for (char** variable = environ; *variable != nullptr; ++variable) {
        if (!std::string_view(*variable).starts_with(marker)) environment.push_back(*variable);
    }
    environment.push_back(const_cast<char*>(mine.c_str()));
    environment.push_back(nullptr);
    char* const* arguments = const_cast<char* const*>(argv);
    pid_t pid = -1;
    // This very executable, whatever PATH now finds under its name.
    int error = posix_spawn(&pid, "/proc/self/exe", &files.actions, &attributes.attributes,
                            arguments, environment.data());
    if (error == ENOENT) {  // no /proc
        error = posix_spawnp(&pid, argv[0], &files.actions, &attributes.attributes, arguments,
                             environment.data());
    }
    if (error != 0) {
        return std::string("cannot start the background refresh: ") + std::strerror(error);
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
