#pragma once
// Runs the command under a kept lease (core/command_runner.hpp): one poll loop over the
// command's pipes, our stdout, the signals and the lease renewal, no threads.

#include <optional>

#include "core/command_runner.hpp"
#include "exec/group_watcher.hpp"
#include "exec/signal_watch.hpp"

namespace lockrun {

class Supervisor : public CommandRunner {
public:
    explicit Supervisor(SignalWatch& signals) : signals_(signals) {}
    RunReport run(const CommandSpec& command, LeaseKeeper& lease, const RunPolicy& policy) override;

private:
    SignalWatch& signals_;
    // The watcher of the last run, stopped when its command ended and reaped only when this
    // supervisor goes, after the caller has released the lock (GroupWatcher::stop).
    std::optional<GroupWatcher> stopped_watcher_;
};

// How long output of the command's leftover children is still read after it exits, so that
// a daemonised grandchild that keeps the pipe open cannot hold the lock (SPEC §4).
inline constexpr Millis k_output_drain{1000};

}  // namespace lockrun
