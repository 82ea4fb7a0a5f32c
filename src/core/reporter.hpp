#pragma once
// Where the algorithm's side effects on the user's terminal go: log lines and replayed
// output. The cli layer provides the real one; tests can record.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/backend.hpp"
#include "core/cached_result.hpp"

namespace lockrun {

// The facts of a log line, by name, for --log-format json (a text line says them in its
// words). The names are documented in lockrun(1) and stay stable.
using LogValue = std::variant<std::string, std::int64_t>;
using LogFields = std::vector<std::pair<std::string_view, LogValue>>;

class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void warn(const std::string& message, const LogFields& fields = {}) = 0;
    // Not a problem, but shown at the default verbosity (-q hides it): a replay.
    virtual void notice(const std::string& message, const LogFields& fields = {}) = 0;
    virtual void info(const std::string& message, const LogFields& fields = {}) = 0;
    virtual void debug(const std::string& message, const LogFields& fields = {}) = 0;
    // A fact that holds from now on, carried by every later line (the run's fence, once
    // the lock is taken); a later value of the same name replaces it.
    virtual void add_context(std::string_view /*name*/, LogValue /*value*/) {}
    // Writes a cached or shared result's output to our stdout (and stderr), in order.
    // Returns an empty string, or why the output stopped short (a compressed output that
    // could not be decompressed again: no memory left).
    virtual std::string replay(const CachedResult& result) = 0;
    // Writes a piece of a followed run's output as it comes (SPEC §1): to stdout or stderr.
    virtual void print_live(OutputStream stream, std::string_view bytes) = 0;

    // A live line while waiting (SPEC §7: on a terminal only). The algorithm calls
    // waiting() about once a second while it waits when shows_progress(), and
    // waiting_ended() once when the wait is over, whatever its end.
    virtual bool shows_progress() const { return false; }
    virtual void waiting(const std::string& /*key*/, const LockHeld& /*held*/,
                         Millis /*wait_left*/) {}
    virtual void waiting_ended() {}
};

}  // namespace lockrun
