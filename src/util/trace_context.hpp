#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the trace and the caller's span
// that a TRACEPARENT variable names, so that lockrun's JSON log lines join the traces an
// operator already collects. lockrun only reads it; the command inherits it unchanged.

#include <optional>
#include <string>
#include <string_view>

namespace lockrun {

struct TraceContext {
    std::string trace_id;  // 32 lower-case hex digits, not all zero
    std::string span_id;   // the caller's span (the header's parent-id): 16 hex digits
};

// nullopt for anything the specification tells a receiver to ignore: a wrong length or
// separator, upper-case or non-hex digits, an all-zero id, version ff, or version 00 with
// more after its four fields. A later version may append fields after a '-'.
std::optional<TraceContext> parse_traceparent(std::string_view header);

}  // namespace lockrun
