#include "backend/local/lock_record.hpp"

#include <charconv>
#include <vector>

#include "util/little_endian.hpp"

namespace lockrun {
namespace {

// NUL-separated text: no field can hold a NUL (they come from argv, the host name and the
// passwd entry), and the closing "end" shows that a reader saw the whole write.
constexpr std::string_view k_holder_magic = "lockrun-holder-1";
constexpr std::string_view k_end = "end";
constexpr std::string_view k_record_magic = "LKRT";

template <typename Int>
bool parse_number(std::string_view text, Int& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_local_holder(const LocalHolder& h) {
    const std::string fields[] = {std::string(k_holder_magic),
                                  std::to_string(h.fence),
                                  h.holder.host,
                                  std::to_string(h.holder.pid),
                                  h.holder.user,
                                  std::to_string(h.holder.started_unix_ms),
                                  h.holder.command,
                                  std::string(k_end)};
    std::string out;
    for (const std::string& field : fields) {
        out.append(field);
        out.push_back('\0');
    }
    return out;
}

std::optional<LocalHolder> decode_local_holder(std::string_view bytes) {
    std::vector<std::string_view> fields;
    while (!bytes.empty()) {
        size_t end = bytes.find('\0');
        if (end == std::string_view::npos) return std::nullopt;
        fields.push_back(bytes.substr(0, end));
        bytes.remove_prefix(end + 1);
    }
    if (fields.size() != 8 || fields[0] != k_holder_magic || fields[7] != k_end) {
        return std::nullopt;
    }
    LocalHolder h;
    if (!parse_number(fields[1], h.fence) || !parse_number(fields[3], h.holder.pid) ||
        !parse_number(fields[5], h.holder.started_unix_ms)) {
        return std::nullopt;
    }
    h.holder.host = fields[2];
    h.holder.user = fields[4];
    h.holder.command = fields[6];
    return h;
}

std::string encode_tagged_record(std::uint64_t tag, std::string_view record) {
    std::string out(k_record_magic);
    append_little_endian(out, tag);
    out.append(record);
    return out;
}

std::optional<TaggedRecord> decode_tagged_record(std::string_view bytes) {
    TaggedRecord tagged;
    if (!bytes.starts_with(k_record_magic)) return std::nullopt;
    bytes.remove_prefix(k_record_magic.size());
    if (!take_little_endian(bytes, tagged.tag)) return std::nullopt;
    tagged.record = bytes;
    return tagged;
}

}  // namespace lockrun
