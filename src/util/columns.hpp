#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace lockrun {

// `line` cut to fit in `columns` terminal columns without touching the last one (writing
// there makes some terminals wrap). Counts UTF-8 characters, each one column wide, and
// never cuts one in half. A cut line ends with "...".
std::string fit_to_columns(std::string_view line, std::size_t columns);

}  // namespace lockrun
