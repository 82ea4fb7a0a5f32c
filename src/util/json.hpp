#pragma once
// Just enough JSON output for `--json`: strings escaped per RFC 8259 (bytes that are not
// valid UTF-8 become U+FFFD, so the output is always valid JSON).

#include <string>
#include <string_view>

namespace lockrun {

// The JSON string literal for `text`, quotes included.
std::string json_string(std::string_view text);

// Whether `bytes` is valid UTF-8 (then json_string keeps it exactly).
bool is_valid_utf8(std::string_view bytes);

// Standard base64 (RFC 4648) of `bytes`, through OpenSSL.
std::string base64(std::string_view bytes);

}  // namespace lockrun
