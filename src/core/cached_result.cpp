#include "core/cached_result.hpp"

#include <algorithm>
#include <optional>

#include "util/little_endian.hpp"
#include "util/zstd_stream.hpp"

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

constexpr std::uint8_t k_output_as_read = 0;
constexpr std::uint8_t k_output_compressed = 1;
constexpr std::size_t k_piece_header_size = 5;

bool is_stream_tag(std::uint8_t tag) {
    return tag == static_cast<std::uint8_t>(OutputStream::stdout_stream) ||
           tag == static_cast<std::uint8_t>(OutputStream::stderr_stream);
}

// Splits decompressed output into its pieces, whose headers and bytes may be cut anywhere
// between two calls of feed().
class PieceReader {
public:
    using Write = std::function<void(OutputStream, std::string_view)>;

    // An empty string, or why the bytes are not pieces.
    std::string feed(std::string_view bytes, const Write& write) {
        while (!bytes.empty()) {
            if (left_ == 0) {
                std::size_t take = std::min(bytes.size(), k_piece_header_size - header_.size());
                header_.append(bytes.substr(0, take));
                bytes.remove_prefix(take);
                if (header_.size() < k_piece_header_size) break;
                std::string_view header = header_;
                std::uint8_t tag = 0;
                take_little_endian(header, tag);
                take_little_endian(header, left_);
                header_.clear();
                if (!is_stream_tag(tag)) return "corrupt stream tag in the compressed output";
                // lockrun writes none; headers alone would decompress without end.
                if (left_ == 0) return "an empty piece in the compressed output";
                stream_ = static_cast<OutputStream>(tag);
                output_ += left_;
                continue;
            }
            std::size_t take = std::min<std::size_t>(bytes.size(), left_);
            if (write) write(stream_, bytes.substr(0, take));
            bytes.remove_prefix(take);
            left_ -= static_cast<std::uint32_t>(take);
        }
        return {};
    }
    bool at_piece_boundary() const { return header_.empty() && left_ == 0; }
    std::uint64_t output_bytes() const { return output_; }

private:
    std::string header_;
    OutputStream stream_ = OutputStream::stdout_stream;
    std::uint32_t left_ = 0;
    std::uint64_t output_ = 0;
};

// Decompresses and splits the output; an empty string when it is whole and as long as
// the record says.
std::string read_compressed(const CachedResult& result, const PieceReader::Write& write) {
    PieceReader pieces;
    std::string problem;
    std::string error = zstd_decompress(result.compressed_output, [&](std::string_view bytes) {
        problem = pieces.feed(bytes, write);
        // More than the record says: stop before a forged frame fills a disk.
        if (problem.empty() && pieces.output_bytes() > result.compressed_bytes) {
            problem = "compressed output longer than its record says";
        }
        return problem.empty();
    });
    if (!problem.empty()) return problem;
    if (!error.empty()) return error;
    if (!pieces.at_piece_boundary()) return "compressed output cut inside a piece";
    if (pieces.output_bytes() != result.compressed_bytes) {
        return "compressed output shorter than its record says";
    }
    return {};
}

// Format 4's --files: the paths, then (when there are any) the archive's size and frame.
std::optional<std::string> read_files(RecordReader& reader, CachedResult& result) {
    std::uint32_t paths = 0;
    if (!reader.get(paths)) return "truncated";
    for (std::uint32_t i = 0; i < paths; ++i) {
        std::string path;
        if (!reader.get_bytes(path)) return "truncated";
        if (path.empty()) return "an empty --files path";
        result.files.push_back(std::move(path));
    }
    if (paths == 0) return std::nullopt;
    if (!reader.get(result.files_archive_bytes) || !reader.get_bytes(result.files_archive)) {
        return "truncated";
    }
    // libarchive ends even an archive of nothing with two blocks of zeros.
    if (result.files_archive.empty() || result.files_archive_bytes == 0) {
        return "empty archive of --files";
    }
    if (result.files_archive_bytes > k_max_record_output) {
        return "archive of --files larger than lockrun stores";
    }
    return std::nullopt;
}

}  // namespace

std::string output_piece_header(OutputStream stream, std::uint32_t size) {
    std::string header;
    append_little_endian<std::uint8_t>(header, static_cast<std::uint8_t>(stream));
    append_little_endian<std::uint32_t>(header, size);
    return header;
}

std::string for_each_output_piece(
    const CachedResult& result, const std::function<void(OutputStream, std::string_view)>& write) {
    for (const OutputChunk& chunk : result.output) write(chunk.stream, chunk.bytes);
    return result.compressed_output.empty() ? std::string() : read_compressed(result, write);
}

std::uint64_t CachedResult::output_bytes() const {
    std::uint64_t total = compressed_bytes;
    for (const OutputChunk& chunk : output) total += chunk.bytes.size();
    return total;
}

std::string CachedResult::stdout_bytes() const {
    std::string bytes;
    // For tests: a record they decoded decompresses whole.
    (void)for_each_output_piece(*this, [&](OutputStream stream, std::string_view piece) {
        if (stream == OutputStream::stdout_stream) bytes += piece;
    });
    return bytes;
}

std::string encode_cached_result(const CachedResult& result) {
    std::string out;
    std::uint64_t output = result.compressed_output.size() + 17 + result.files_archive.size() + 12;
    for (const OutputChunk& chunk : result.output) output += chunk.bytes.size() + 9;
    for (const std::string& path : result.files) output += path.size() + 8;
    out.reserve(64 + result.host.size() + output);
    out.append(k_magic);
    append_little_endian<std::uint8_t>(out, k_cached_result_version);
    append_little_endian<std::int32_t>(out, result.exit_code);
    append_little_endian<std::int64_t>(out, result.created_unix_ms);
    append_little_endian<std::int64_t>(out, result.duration_ms);
    put_bytes(out, result.host);
    append_little_endian<std::uint64_t>(out, result.fence);
    if (!result.compressed_output.empty()) {
        append_little_endian<std::uint8_t>(out, k_output_compressed);
        append_little_endian<std::uint64_t>(out, result.compressed_bytes);
        put_bytes(out, result.compressed_output);
    } else {
        append_little_endian<std::uint8_t>(out, k_output_as_read);
        append_little_endian<std::uint32_t>(out, static_cast<std::uint32_t>(result.output.size()));
        for (const OutputChunk& chunk : result.output) {
            append_little_endian<std::uint8_t>(out, static_cast<std::uint8_t>(chunk.stream));
            put_bytes(out, chunk.bytes);
        }
    }
    append_little_endian<std::uint32_t>(out, static_cast<std::uint32_t>(result.files.size()));
    if (result.files.empty()) return out;
    for (const std::string& path : result.files) put_bytes(out, path);
    append_little_endian<std::uint64_t>(out, result.files_archive_bytes);
    put_bytes(out, result.files_archive);
    return out;
}

std::variant<CachedResult, UnreadableRecord> decode_cached_result(std::string_view record) {
    if (!record.starts_with(k_magic)) return UnreadableRecord{"not a lockrun record"};
    RecordReader reader(record.substr(k_magic.size()));
    std::uint8_t version = 0;
    if (!reader.get(version)) return UnreadableRecord{"truncated"};
    if (version < 1 || version > k_cached_result_version) {
        return UnreadableRecord{"written in format " + std::to_string(version) +
                                ", which this lockrun does not read"};
    }
    CachedResult result;
    std::int32_t exit_code = 0;
    std::uint8_t kept_as = k_output_as_read;
    std::uint32_t chunks = 0;
    if (!reader.get(exit_code) || !reader.get(result.created_unix_ms) ||
        !reader.get(result.duration_ms) || !reader.get_bytes(result.host) ||
        (version >= 2 && !reader.get(result.fence)) || (version >= 3 && !reader.get(kept_as))) {
        return UnreadableRecord{"truncated"};
    }
    if (exit_code < 0 || exit_code > 255) return UnreadableRecord{"corrupt exit code"};
    result.exit_code = exit_code;
    if (kept_as == k_output_compressed) {
        if (!reader.get(result.compressed_bytes) || !reader.get_bytes(result.compressed_output)) {
            return UnreadableRecord{"truncated"};
        }
        if (result.compressed_output.empty() || result.compressed_bytes == 0) {
            return UnreadableRecord{"empty compressed output"};
        }
        if (result.compressed_bytes > k_max_record_output) {
            return UnreadableRecord{"compressed output larger than lockrun stores"};
        }
    } else {
        if (kept_as != k_output_as_read) return UnreadableRecord{"corrupt output kind"};
        if (!reader.get(chunks)) return UnreadableRecord{"truncated"};
        for (std::uint32_t i = 0; i < chunks; ++i) {
            std::uint8_t stream = 0;
            OutputChunk chunk{OutputStream::stdout_stream, {}};
            if (!reader.get(stream) || !reader.get_bytes(chunk.bytes)) {
                return UnreadableRecord{"truncated"};
            }
            if (!is_stream_tag(stream)) return UnreadableRecord{"corrupt stream tag"};
            chunk.stream = static_cast<OutputStream>(stream);
            result.output.push_back(std::move(chunk));
        }
    }
    if (version >= 4) {
        if (auto problem = read_files(reader, result)) return UnreadableRecord{*problem};
    }
    if (!reader.at_end()) return UnreadableRecord{"trailing bytes after the record"};
    // Checked whole now, in bounded memory, so that a replay never stops half-way.
    if (!result.compressed_output.empty()) {
        if (std::string problem = read_compressed(result, nullptr); !problem.empty()) {
            return UnreadableRecord{problem};
        }
    }
    // The archive of --files is checked as it is extracted (files/extract_files.cpp), into a
    // directory removed if anything in it is refused: a caller that does not extract it, or
    // `status`, does not decompress it.
    return result;
}

}  // namespace lockrun
