#pragma once
// What lockrun itself prints on stdout (help, the version, what the subcommands say, the
// documents of --json), each piece written with one call. Not std::cout: see cli/cli11.hpp.

#include <string_view>

namespace lockrun {

// Writes all of `text` to stdout. A reader that has gone (EPIPE) or a stdout closed by the
// caller loses the text without a word, as with the C++ streams before it: the exit status
// is the subcommand's.
void print_to_stdout(std::string_view text);

}  // namespace lockrun
