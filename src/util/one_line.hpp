#pragma once
#include <string>
#include <string_view>

namespace lockrun {

// `text` made safe to print on one line of a terminal: newlines and every other control
// character are shown escaped ("\n", "\x1b"), C1 controls (U+0080-U+009F, which some
// terminals obey like ESC sequences) as "\u0085", the bidirectional formatting characters
// (utf8.hpp: they reorder what follows them) as "\u202e", and bytes that are not UTF-8 as
// "\xNN".
// For messages that quote a user's value or a string read from a backend, so that it stays
// one line and cannot forge another line or drive the terminal.
std::string one_line(std::string_view text);

}  // namespace lockrun
