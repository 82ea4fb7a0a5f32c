#pragma once
// The one bound of a backend step (SPEC §3): "One --connect-timeout + --io-timeout bounds
// each backend step, retries included (name lookup too)". A step makes one at its start
// and hands it down to the name lookup, the connect, every exchange and the retry, so that
// no part of the step can take more than what is left of it. It also knows what it is
// made of, so that the message of a step that ran out tells the bound that was applied.

#include <string>

#include "util/deadline.hpp"

namespace lockrun {

struct StepDeadline {
    Deadline at = Deadline::never();
    Millis total{0};      // the whole step's bound
    std::string made_of;  // "--connect-timeout 2s + --io-timeout 2s"; empty: a bare deadline

    // A step that starts now: connect_timeout + io_timeout from now.
    static StepDeadline starting_now(Millis connect_timeout, Millis io_timeout) {
        StepDeadline step;
        step.made_of = "--connect-timeout " + format_duration(connect_timeout) +
                       " + --io-timeout " + format_duration(io_timeout);
        if (connect_timeout == k_infinite || io_timeout == k_infinite ||
            connect_timeout > k_infinite - io_timeout) {
            step.total = k_infinite;
            return step;
        }
        step.total = connect_timeout + io_timeout;
        step.at = Deadline::after(step.total);
        return step;
    }
    // A deadline that is not a step's (a renewal's own, the doctor's none): it bounds the
    // waits, and messages name the timeout of the part that ran out instead.
    static StepDeadline bare(Deadline deadline) {
        StepDeadline step;
        step.at = deadline;
        step.total = deadline.left();
        return step;
    }

    bool described() const { return !made_of.empty(); }
    // "4s (--connect-timeout 2s + --io-timeout 2s": the caller closes the parenthesis,
    // after its own hint.
    std::string bound() const { return format_duration(total) + " (" + made_of; }
};

// How long connecting may take, and how a message says it: "2s (check --redis and
// --connect-timeout)", or, when what is left of the step is the tighter bound, the step's.
struct ConnectBound {
    Deadline at;
    std::string within;

    static ConnectBound of(Millis connect_timeout, const StepDeadline& step) {
        const char* hint = "check --redis and --connect-timeout)";
        Deadline own = Deadline::after(connect_timeout);
        if (step.described() && step.at.at() <= own.at()) {
            return ConnectBound{step.at, step.bound() + "; " + hint};
        }
        return ConnectBound{earliest(own, step.at), format_duration(connect_timeout) + " (" + hint};
    }
};

}  // namespace lockrun
