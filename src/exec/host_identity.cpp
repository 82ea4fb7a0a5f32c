#include "exec/host_identity.hpp"

#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include <limits>

#include "core/holder_text.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {
namespace {

constexpr std::size_t k_command_shown = 200;

}  // namespace

std::string this_host_name() {
    char host[HOST_NAME_MAX + 1] = {};
    return ::gethostname(host, sizeof host - 1) == 0 ? host : "";
}

HolderInfo current_holder(const std::vector<std::string>& argv, bool whole_command) {
    HolderInfo me;
    me.host = this_host_name();
    me.pid = ::getpid();
    // The uid, not the name: the name is a lookup in the user database (nsswitch.conf,
    // /etc/passwd, maybe a directory server) on every run, for a field that only `status`
    // on this host shows, and names there (holder_with_user_name).
    me.user = std::to_string(::getuid());
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

HolderInfo holder_with_user_name(HolderInfo holder) {
    if (!user_is_uid(holder.user) || holder.host.empty() || holder.host != this_host_name())
        return holder;
    passwd entry{};
    passwd* found = nullptr;
    char buffer[4096];
    unsigned long uid = std::stoul(holder.user);
    if (uid <= std::numeric_limits<uid_t>::max() &&
        ::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer, sizeof buffer, &found) == 0 &&
        found) {
        holder.user = found->pw_name;
    }
    return holder;
}

}  // namespace lockrun
