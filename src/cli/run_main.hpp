#pragma once

namespace lockrun {

// The whole program: parses the command line, runs, and is the one place where an error
// becomes a "lockrun: ..." line on stderr and an exit code (SPEC §3). `openssl_linked_in`:
// whether this is lockrun-openssl (exec/openssl_companion.hpp); if not, a run that needs
// TLS or signed records becomes lockrun-openssl before it does anything.
int run_main(int argc, const char* const* argv, bool openssl_linked_in);

}  // namespace lockrun
