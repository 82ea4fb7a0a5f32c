#include "core/holder_text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "util/one_line.hpp"
#include "util/wall_clock.hpp"

namespace lockrun {

bool user_is_uid(std::string_view user) {
    return !user.empty() && user.size() <= 10 &&
           user.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string holder_text(const HolderInfo& holder) {
    std::string text = fmt::format("pid {}", holder.pid);
    if (!holder.host.empty()) text += " on " + one_line(holder.host);
    if (holder.user.empty()) return text;
    text += (user_is_uid(holder.user) ? " (uid " : " (user ") + one_line(holder.user) + ")";
    return text;
}

std::string describe_holder(const LockHeld& held) {
    std::string text = holder_text(held.holder);
    if (!held.holder.command.empty()) text += " running '" + one_line(held.holder.command) + "'";
    if (held.holder.started_unix_ms > 0) {
        Millis held_for(std::max<std::int64_t>(0, unix_now_ms() - held.holder.started_unix_ms));
        text += " for " + format_duration(std::chrono::ceil<std::chrono::seconds>(held_for));
    }
    return text + fmt::format(", fence {}", held.fence);
}

std::string run_text(const LockHeld& held) {
    return "the run of " + holder_text(held.holder) + fmt::format(" (fence {})", held.fence);
}

std::string hold_kind(int max_holders, bool shared) {
    return shared ? "--shared" : "-n " + std::to_string(std::max(1, max_holders));
}

std::string max_holders_conflict(const std::string& key, const std::string& in_force,
                                 const std::string& given) {
    const std::string shown = one_line(in_force.empty() ? std::string("?") : in_force);
    const std::string held = in_force == "1"        ? "an exclusive lock (-n 1)"
                             : in_force == "shared" ? "readers (--shared)"
                                                    : "-n " + shown;
    return key + " is held with " + held + ", and this caller gave " + given +
           ": every caller of a key must give the same -n (readers and exclusive callers may "
           "mix)";
}

}  // namespace lockrun
