#pragma once

namespace lockrun {

// The whole program: parses the command line, runs, and is the one place where an error
// becomes a "lockrun: ..." line on stderr and an exit code (SPEC §3).
int run_main(int argc, const char* const* argv);

}  // namespace lockrun
