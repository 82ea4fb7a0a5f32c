#pragma once
#include <string>
#include <string_view>

namespace lockrun {

// Two lower-case hex digits a byte: digests, tokens, "\x1b" escapes.
std::string hex(std::string_view bytes);

// Two upper-case hex digits a byte, as RFC 3986 percent-encoding prefers.
std::string hex_upper(std::string_view bytes);

}  // namespace lockrun
