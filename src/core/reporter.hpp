#pragma once
// Where the algorithm's side effects on the user's terminal go: log lines and replayed
// output. The cli layer provides the real one; tests can record.

#include <string>
#include <vector>

#include "core/cached_result.hpp"

namespace lockrun {

class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void warn(const std::string& message) = 0;
    virtual void info(const std::string& message) = 0;
    virtual void debug(const std::string& message) = 0;
    // Writes a cached or shared result's output to our stdout (and stderr), in order.
    virtual void replay(const std::vector<OutputChunk>& output) = 0;
};

}  // namespace lockrun
