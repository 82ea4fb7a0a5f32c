#pragma once
// Just enough JSON output for `--json`: strings escaped per RFC 8259 (bytes that are not
// valid UTF-8 become U+FFFD, so the output is always valid JSON).

#include <string>
#include <string_view>

namespace lockrun {

// The JSON string literal for `text`, quotes included; valid UTF-8 (util/utf8.hpp) is kept
// exactly.
std::string json_string(std::string_view text);

// Standard base64 (RFC 4648) of `bytes`, through OpenSSL.
std::string base64(std::string_view bytes);

}  // namespace lockrun
