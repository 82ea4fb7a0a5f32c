#pragma once
// CLI11, without the static initialiser that <iostream> gives every program that includes it:
// it builds the eight standard streams and the C++ classic locale at every start, ~50 µs of
// every run measured on lockrun (0.07 ms on a trivial program linked as lockrun is), for
// streams that a run never writes to (cli/standard_output.hpp prints what lockrun says on
// stdout). CLI11 2.x includes <iostream> for App::exit() and for warnings about deprecated
// and retired options, none of which lockrun uses. With libstdc++, <iostream> is its
// declarations of the eight streams and that initialiser, under the include guard defined
// here: the declarations are made as it makes them, the initialiser is left out. With
// another standard library, <iostream> is included as it is.
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
