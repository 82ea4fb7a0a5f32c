#include "util/trace_context.hpp"

#include <algorithm>

namespace lockrun {
namespace {

bool lower_hex(std::string_view text) {
    return std::ranges::all_of(
        text, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view text) {
    return std::ranges::all_of(text, [](char c) { return c == '0'; });
}

}  // namespace

std::optional<TraceContext> parse_traceparent(std::string_view header) {
    // version "-" trace-id "-" parent-id "-" trace-flags: 2+1+32+1+16+1+2 characters.
    constexpr std::size_t k_length = 55;
    if (header.size() < k_length) return std::nullopt;
    std::string_view version = header.substr(0, 2);
    std::string_view trace_id = header.substr(3, 32);
    std::string_view span_id = header.substr(36, 16);
    std::string_view flags = header.substr(53, 2);
    if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
    if (!lower_hex(version) || version == "ff") return std::nullopt;
    if (header.size() > k_length && (version == "00" || header[k_length] != '-')) {
        return std::nullopt;
    }
    if (!lower_hex(trace_id) || !lower_hex(span_id) || !lower_hex(flags)) return std::nullopt;
    if (all_zero(trace_id) || all_zero(span_id)) return std::nullopt;
    return TraceContext{std::string(trace_id), std::string(span_id)};
}

}  // namespace lockrun
