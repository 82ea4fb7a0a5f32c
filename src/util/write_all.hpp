#pragma once
#include <string_view>

namespace lockrun {

// Writes all of `bytes` to `fd`, going on after short writes and EINTR, and waiting for room
// where `fd` is non-blocking (a descriptor shared with a program that set O_NONBLOCK on it,
// as CI runners and Node.js do): EAGAIN is no failure. Returns false at the first failure,
// with errno saying why (EPIPE: the reader has gone).
bool write_all(int fd, std::string_view bytes);

}  // namespace lockrun
