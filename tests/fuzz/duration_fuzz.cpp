// libFuzzer: a duration that parses formats to a spelling that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (bool allow_infinite : {false, true}) {
        auto parsed = lockrun::parse_duration(text, allow_infinite);
        if (!parsed) continue;
        if (*parsed < lockrun::Millis(0)) std::abort();
        auto again = lockrun::parse_duration(lockrun::format_duration(*parsed), allow_infinite);
        if (!again || *again != *parsed) std::abort();
    }
    return 0;
}
