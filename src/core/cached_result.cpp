#include "core/cached_result.hpp"

#include "util/little_endian.hpp"

namespace lockrun {
namespace {

// "LKRN" then a version byte: cheap to recognise, and a newer writer can change
// everything after the version.
constexpr std::string_view k_magic = "LKRN";

void put_bytes(std::string& out, std::string_view bytes) {
    append_little_endian<std::uint64_t>(out, bytes.size());
    out.append(bytes);
}

// Reads little-endian fields from a record; every read checks the length first.
class RecordReader {
public:
    explicit RecordReader(std::string_view bytes) : rest_(bytes) {}

    template <typename Int>
    bool get(Int& value) {
        return take_little_endian(rest_, value);
    }
    bool get_bytes(std::string& value) {
        std::uint64_t size = 0;
        if (!get(size) || size > rest_.size()) return false;
        value.assign(rest_.substr(0, size));
        rest_.remove_prefix(size);
        return true;
    }
    bool at_end() const { return rest_.empty(); }

private:
    std::string_view rest_;
};

}  // namespace

std::uint64_t CachedResult::output_bytes() const {
    std::uint64_t total = 0;
    for (const OutputChunk& chunk : output) total += chunk.bytes.size();
    return total;
}

std::string CachedResult::stdout_bytes() const {
    std::string bytes;
    for (const OutputChunk& chunk : output) {
        if (chunk.stream == OutputStream::stdout_stream) bytes += chunk.bytes;
    }
    return bytes;
}

std::string encode_cached_result(const CachedResult& result) {
    std::string out;
    out.reserve(64 + result.host.size() + result.output_bytes() + 9 * result.output.size());
    out.append(k_magic);
    append_little_endian<std::uint8_t>(out, k_cached_result_version);
    append_little_endian<std::int32_t>(out, result.exit_code);
    append_little_endian<std::int64_t>(out, result.created_unix_ms);
    append_little_endian<std::int64_t>(out, result.duration_ms);
    put_bytes(out, result.host);
    append_little_endian<std::uint64_t>(out, result.fence);
    append_little_endian<std::uint32_t>(out, static_cast<std::uint32_t>(result.output.size()));
    for (const OutputChunk& chunk : result.output) {
        append_little_endian<std::uint8_t>(out, static_cast<std::uint8_t>(chunk.stream));
        put_bytes(out, chunk.bytes);
    }
    return out;
}

std::variant<CachedResult, UnreadableRecord> decode_cached_result(std::string_view record) {
    if (!record.starts_with(k_magic)) return UnreadableRecord{"not a lockrun record"};
    RecordReader reader(record.substr(k_magic.size()));
    std::uint8_t version = 0;
    if (!reader.get(version)) return UnreadableRecord{"truncated"};
    if (version != 1 && version != k_cached_result_version) {
        return UnreadableRecord{"written in format " + std::to_string(version) +
                                ", which this lockrun does not read"};
    }
    CachedResult result;
    std::int32_t exit_code = 0;
    std::uint32_t chunks = 0;
    if (!reader.get(exit_code) || !reader.get(result.created_unix_ms) ||
        !reader.get(result.duration_ms) || !reader.get_bytes(result.host) ||
        (version >= 2 && !reader.get(result.fence)) || !reader.get(chunks)) {
        return UnreadableRecord{"truncated"};
    }
    if (exit_code < 0 || exit_code > 255) return UnreadableRecord{"corrupt exit code"};
    result.exit_code = exit_code;
    for (std::uint32_t i = 0; i < chunks; ++i) {
        std::uint8_t stream = 0;
        OutputChunk chunk{OutputStream::stdout_stream, {}};
        if (!reader.get(stream) || !reader.get_bytes(chunk.bytes)) {
            return UnreadableRecord{"truncated"};
        }
        if (stream != static_cast<std::uint8_t>(OutputStream::stdout_stream) &&
            stream != static_cast<std::uint8_t>(OutputStream::stderr_stream)) {
            return UnreadableRecord{"corrupt stream tag"};
        }
        chunk.stream = static_cast<OutputStream>(stream);
        result.output.push_back(std::move(chunk));
    }
    if (!reader.at_end()) return UnreadableRecord{"trailing bytes after the record"};
    return result;
}

}  // namespace lockrun
