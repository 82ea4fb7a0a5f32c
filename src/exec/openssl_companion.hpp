#pragma once
// lockrun is built twice from the same code: `lockrun`, which carries no OpenSSL, and
// `lockrun-openssl`, which has OpenSSL's TLS and HMAC linked in. Most runs need neither, and
// OpenSSL's tables cost every start of a position-independent binary ~0.3 ms of relocation
// and ~100 page faults; so `lockrun` runs lockrun-openssl in its own place (the same
// process, arguments and environment) for the runs that do: a rediss:// URL, or
// --cache-key-file.

#include <string>

namespace lockrun {

// Replaces this process with lockrun-openssl, given the same argv, for `use` (what this run
// needs of OpenSSL, for the message): the one next to this executable (a build tree), else
// the one in LOCKRUN_COMPANION_DIR (set by CMakeLists.txt) relative to this executable's directory
// (an installed lockrun: ../libexec/lockrun). Returns only by throwing ConfigError (78), naming
// where it looked and why it could not run it.
[[noreturn]] void become_openssl_companion(const char* const* argv, const std::string& use);

}  // namespace lockrun
