#pragma once
// What lockrun itself prints on stdout (help, the version, what the subcommands say, the
// documents of --json), each piece written with one call. Not std::cout: see cli/cli11.hpp.

#include <string_view>

namespace lockrun {

// Writes all of `text` to stdout. A reader that has gone (EPIPE) loses the text without a
// word, as the left side of a pipeline does: the exit status is the subcommand's. (A stdout
// that lockrun's caller closed is /dev/null: cli/run_main.cpp.) Any other failure (a full
// disk, an I/O error) throws OutputIncomplete: a script must not take a cut answer for a
// whole one.
void print_to_stdout(std::string_view text);

}  // namespace lockrun
