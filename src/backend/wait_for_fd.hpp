#pragma once
// The one blocking wait of the backends: for a socket or pipe, within a deadline, and ended
// early when the user signals lockrun (InterruptSource).

#include "core/interrupt_source.hpp"
#include "util/deadline.hpp"

namespace lockrun {

enum class FdWait { ready, timed_out, failed };

// Waits until `fd` reports one of `events` (or an error or hangup: then the caller's next
// read or write says which): ready; or until `deadline` passes: timed_out. A signal for
// lockrun throws Interrupted meanwhile; `interrupt` may be null. failed: poll(2) itself
// failed, and errno says why. An `fd` of -1 sleeps until the deadline, or the signal.
FdWait wait_for_fd(int fd, short events, Deadline deadline, InterruptSource* interrupt);

}  // namespace lockrun
