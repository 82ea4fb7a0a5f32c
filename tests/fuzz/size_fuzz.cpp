// libFuzzer: a size that parses formats to a spelling that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/size.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = lockrun::parse_size(text);
    if (!parsed) return 0;
    auto again = lockrun::parse_size(lockrun::format_size(*parsed));
    if (!again || *again != *parsed) std::abort();
    return 0;
}
