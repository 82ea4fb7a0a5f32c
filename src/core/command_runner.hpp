#pragma once
// Runs the command while the lease is kept (SPEC §4): the single-flight algorithm hands it
// a command and a LeaseKeeper, and gets back what happened. The implementation owns the
// process, its pipes and the signals (src/exec/).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/cached_result.hpp"
#include "core/lease_keeper.hpp"
#include "core/live_output.hpp"

namespace lockrun {

enum class OnLockLost { term, kill, ignore };

struct CommandSpec {
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> extra_environment;
    std::vector<std::string> removed_environment;  // names the command must not see
    // Descriptors the command's processes keep open, so that a lock held through them stays
    // held while any of them lives (SPEC §4, local backend).
    std::vector<int> inherited_fds;
};

struct RunPolicy {
    OnLockLost on_lock_lost = OnLockLost::term;
    Millis kill_after{10'000};
    bool capture = false;         // keep the output for the cache
    bool capture_stderr = false;  // stderr is captured (and so piped) too
    std::uint64_t capture_limit = 0;
    // Where the captured streams are published for the run's followers (SPEC §1); null:
    // nowhere.
    LivePublisher* live = nullptr;
};

// Why the command could not be started; the algorithm chooses the exit code (SPEC §3).
struct StartFailure {
    enum class Reason { not_found, not_executable };
    Reason reason = Reason::not_executable;
    std::string message;  // one line naming the command
};

struct RunReport {
    // The command's exit status, 128+N when killed by signal N; none when start_failure.
    int exit_status = 0;
    std::optional<StartFailure> start_failure;
    std::optional<int> killed_by_signal;        // N, when signal N ended the command
    std::optional<int> forwarded_signal;        // a signal the user sent during the run
    std::optional<std::string> lock_lost;       // why, when the lease could not be kept
    bool stopped_for_lock_loss = false;         // we terminated the command because of it
    std::vector<OutputChunk> output;            // captured, when the policy asked for it
    std::string compressed_output;              // or that, compressed (CachedResult's form)
    std::uint64_t compressed_bytes = 0;         // its size decompressed
    bool output_over_limit = false;             // more than capture_limit: output is incomplete
    std::optional<std::string> capture_failed;  // why the output could not be kept otherwise
    // Our stdout or stderr refused the output ("stdout: No space left on device"): it is
    // incomplete here, though the command ran on and its captured output is whole.
    std::optional<std::string> output_failed;
    // The reader of our output went away before its end (`| head -1`), and the command, as
    // in a shell pipeline, was cut off by SIGPIPE: its output, and so its outcome, is a part.
    bool output_cut = false;
    Millis duration{0};
    // The lease was still valid by the holder's own clock when the command was seen to
    // have ended: no other run can have overlapped it (SPEC §5 validity rule).
    bool ended_in_lease = false;
};

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    virtual RunReport run(const CommandSpec& command, LeaseKeeper& lease,
                          const RunPolicy& policy) = 0;
};

}  // namespace lockrun
