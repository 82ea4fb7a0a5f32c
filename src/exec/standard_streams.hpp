#pragma once
// lockrun may be started with stdin, stdout or stderr closed (`lockrun ... >&-`, a daemon
// that closed them). The next descriptor lockrun opens would then take that number: a
// signalfd as "stdout" makes the relay wait forever, a Redis socket as "stderr" makes every
// log line (and any holder metadata quoted in one) a command to the server. So each of the
// three that is closed gets /dev/null before anything else is opened.

namespace lockrun {

// Opens /dev/null on each of descriptors 0, 1, 2 that is closed. Returns false only when
// /dev/null itself cannot be opened; lockrun must not go on then.
bool open_closed_standard_streams();

}  // namespace lockrun
