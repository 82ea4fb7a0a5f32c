#pragma once
#include <string_view>

namespace lockrun {

// Writes all of `bytes` to `fd`, going on after short writes and EINTR. Returns false at the
// first failure, with errno saying why (EPIPE: the reader has gone).
bool write_all(int fd, std::string_view bytes);

}  // namespace lockrun
