#pragma once
// A command as RESP sends it, an array of bulk strings, appended to a buffer in place.
// Not hiredis's redisFormatCommandArgv, which formats into a buffer of its own that then
// became a string: a piece of live output was copied three times on its way into the send
// queue, and at the peak of a captured stream all three copies were memory in use.

#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

inline void append_resp_command(std::string& out, const std::vector<std::string_view>& args) {
    auto append_header = [&out](char type, std::size_t count) {
        out += type;
        out += std::to_string(count);
        out += "\r\n";
    };
    append_header('*', args.size());
    for (std::string_view arg : args) {
        append_header('$', arg.size());
        out += arg;
        out += "\r\n";
    }
}

}  // namespace lockrun
