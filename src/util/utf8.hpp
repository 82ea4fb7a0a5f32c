#pragma once
#include <cstddef>
#include <string_view>

namespace lockrun {

// The length of the well-formed UTF-8 sequence at the start of `bytes` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF): 1 for ASCII, 0 when there is none.
std::size_t utf8_sequence_length(std::string_view bytes);

// Whether `character`, one UTF-8 sequence, is a control character: C0 (U+0000-U+001F), DEL,
// or C1 (U+0080-U+009F, which some terminals obey like ESC sequences).
bool is_control_character(std::string_view character);

// Whether `bytes` is all well-formed UTF-8.
bool is_valid_utf8(std::string_view bytes);

}  // namespace lockrun
