#pragma once
#include <string>

namespace lockrun {

// 16 bytes from the kernel's random source (getrandom(2)), as 32 hex digits. Throws
// std::runtime_error (an internal error, 70, to the cli) if no randomness can be had.
std::string random_token();

}  // namespace lockrun
