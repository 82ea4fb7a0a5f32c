#pragma once
// The failures lockrun reports. Each carries the one line the user reads; the cli layer
// (src/cli/run_main.cpp) is the only place that turns them into stderr and an exit code.

#include <stdexcept>
#include <string>

#include "core/exit_code.hpp"
#include "util/one_line.hpp"

namespace lockrun {

class Error : public std::runtime_error {
public:
    // The message is made one line here, so that no error can print two (SPEC §3).
    Error(int exit_code, const std::string& message)
        : std::runtime_error(one_line(message)), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

// Bad flag, value, key or missing command (64).
class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(exit_code::k_usage, message) {}
};

// Misconfiguration: malformed URL, bad config file, credentials rejected (78).
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error(exit_code::k_config, message) {}
};

// The backend cannot be reached or stopped answering (69).
class BackendUnavailable : public Error {
public:
    explicit BackendUnavailable(const std::string& message)
        : Error(exit_code::k_backend_unavailable, message) {}
};

// The backend released the lock but would not store the result (a server out of memory, a
// record over its size limit): the run is over and its waiters are woken; only the result
// is lost.
class ResultNotStored : public BackendUnavailable {
public:
    using BackendUnavailable::BackendUnavailable;
};

// Fewer replicas than --min-replicas acknowledged a write in time (SPEC §8): the lock was
// released (after acquiring) or the result was stored but may not survive a failover
// (after storing). Exit 69, and never a reason to run unguarded: the user asked for more
// safety, not less.
class NotReplicated : public BackendUnavailable {
public:
    using BackendUnavailable::BackendUnavailable;
};

// What lockrun itself printed on stdout (help, a subcommand's answer, a --json document)
// could not be written: a full disk, an I/O error (74). A reader that went away is no error.
class OutputIncomplete : public Error {
public:
    explicit OutputIncomplete(const std::string& message)
        : Error(exit_code::k_output_incomplete, message) {}
};

// A bug or an impossible reply (70).
class InternalError : public Error {
public:
    explicit InternalError(const std::string& message) : Error(exit_code::k_internal, message) {}
};

// A forwarded signal arrived while lockrun was not running the command (waiting,
// connecting): the run ends with 128+N, holding nothing.
class Interrupted : public Error {
public:
    explicit Interrupted(int signal_number)
        : Error(exit_code::k_signal_base + signal_number, ""), signal_number_(signal_number) {}
    int signal_number() const { return signal_number_; }

private:
    int signal_number_;
};

}  // namespace lockrun
