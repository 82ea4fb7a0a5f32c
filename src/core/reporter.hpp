#pragma once
// Where the algorithm's side effects on the user's terminal go: log lines and replayed
// output. The cli layer provides the real one; tests can record.

#include <string>
#include <vector>

#include "core/backend.hpp"
#include "core/cached_result.hpp"

namespace lockrun {

class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void warn(const std::string& message) = 0;
    // Not a problem, but shown at the default verbosity (-q hides it): a replay.
    virtual void notice(const std::string& message) = 0;
    virtual void info(const std::string& message) = 0;
    virtual void debug(const std::string& message) = 0;
    // Writes a cached or shared result's output to our stdout (and stderr), in order.
    virtual void replay(const std::vector<OutputChunk>& output) = 0;

    // A live line while waiting (SPEC §7: on a terminal only). The algorithm calls
    // waiting() about once a second while it waits when shows_progress(), and
    // waiting_ended() once when the wait is over, whatever its end.
    virtual bool shows_progress() const { return false; }
    virtual void waiting(const std::string& /*key*/, const LockHeld& /*held*/,
                         Millis /*wait_left*/) {}
    virtual void waiting_ended() {}
};

}  // namespace lockrun
