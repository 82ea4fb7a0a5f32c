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

// Whether `character`, one UTF-8 sequence, is a bidirectional formatting character (U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069): invisible itself, it changes the order in
// which a terminal shows what follows it on the line ("Trojan Source"), so that a quoted
// value can read as another.
bool is_bidi_control(std::string_view character);

// The code point of `character`, one well-formed UTF-8 sequence.
char32_t code_point(std::string_view character);

// Whether `bytes` is all well-formed UTF-8.
bool is_valid_utf8(std::string_view bytes);

}  // namespace lockrun
