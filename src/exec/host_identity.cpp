#include "exec/host_identity.hpp"

#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

constexpr std::size_t k_command_shown = 200;

std::string user_name() {
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    if (::getpwuid_r(::getuid(), &entry, buffer, sizeof buffer, &found) == 0 && found) {
        return found->pw_name;
    }
    return std::to_string(::getuid());
}

}  // namespace

HolderInfo current_holder(const std::vector<std::string>& argv, bool whole_command) {
    HolderInfo me;
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) me.host = host;
    me.pid = ::getpid();
    me.user = user_name();
    // Every client of the server can read the holder record: a command line may carry a
    // secret (curl -H 'Authorization: ...'), so --no-holder-command keeps only the program.
    for (const std::string& arg : argv) {
        if (!me.command.empty()) me.command += ' ';
        me.command += arg;
        if (!whole_command) break;
    }
    if (me.command.size() > k_command_shown)
        me.command = me.command.substr(0, k_command_shown) + "...";
    me.started_unix_ms = unix_now_ms();
    return me;
}

}  // namespace lockrun
