#pragma once
#include <string>
#include <string_view>

namespace lockrun {

// `text` with newlines and other control characters shown escaped ("\n", "\x1b"), so that
// a message quoting a user's value stays one line and cannot forge another.
std::string one_line(std::string_view text);

}  // namespace lockrun
