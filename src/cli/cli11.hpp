#pragma once
// CLI11, without the static initialiser that <iostream> gives every program that includes it:
// it builds the eight standard streams at every start, ~40 µs of every run measured on
// lockrun, for streams that a run never writes to (cli/standard_output.hpp prints what
// lockrun says on stdout). (The classic locale that it built too is still built, by CLI11's
// trimming of option names: another ~40 µs, CLI11's own.) CLI11 2.x includes <iostream> for
// App::exit() and for warnings about deprecated and retired options, none of which lockrun uses.
// With libstdc++, <iostream> is its declarations of the eight streams and that initialiser, under
// the include guard defined here: the declarations are made as it makes them, the initialiser is
// left out. With another standard library, <iostream> is included as it is.
#include <istream>
#include <ostream>

#if defined(__GLIBCXX__) && !defined(_GLIBCXX_IOSTREAM)
#define _GLIBCXX_IOSTREAM 1
namespace std {
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
}  // namespace std
#endif

#include <CLI/CLI.hpp>
