#pragma once
// Lets a blocking step (connecting, waiting for a lock) end early when the user signals
// lockrun, without that step knowing how signals are delivered.

#include <functional>

namespace lockrun {

class InterruptSource {
public:
    virtual ~InterruptSource() = default;
    // An fd that becomes readable when a signal is pending (to add to a poll set).
    virtual int fd() const = 0;
    // Throws Interrupted when a forwarded signal is pending; returns otherwise.
    virtual void throw_if_interrupted() = 0;
    // Runs `wait`, a blocking system call that poll(2) cannot watch (futex(2)), so that a
    // forwarded signal ends it early (EINTR) and stays pending for throw_if_interrupted().
    // A source without signals just runs it.
    virtual void interruptible(const std::function<void()>& wait) { wait(); }
};

}  // namespace lockrun
