#pragma once
// The run's inputs as part of its key (SPEC §1: --key-file, --key-env, --key-cwd): a change
// of input is a new unit of work.

#include <string>

#include "cli/options.hpp"

namespace lockrun {

// ":in-" and the first 32 hex digits of the SHA-256 of the inputs, to append to KEY.
//
// What is hashed, each part tagged and delimited so that no two sets of inputs read alike:
// each --key-file in the order given, by content (a file followed if it is a symlink; a
// directory recursively, its entries in byte order by name, each by name and content, a
// symlink inside it by its target text, never followed, anything else by its type; an
// entry that vanishes while the directory is read is left out); then
// each --key-env variable by name and value, or as unset; then, with --key-cwd, the working
// directory with symlinks resolved. The path given to --key-file is not part of it: the same
// package-lock.json in two checkouts is the same input.
//
// UsageError (64) naming the file or variable that cannot be read or is not one.
std::string key_inputs_suffix(const KeyInputs& inputs, const EnvironmentLookup& environment);

}  // namespace lockrun
