#include "core/record_seal.hpp"

#include "util/hmac_sha256.hpp"

namespace lockrun {
namespace {

constexpr std::string_view k_signed_magic = "LKRS";
constexpr std::size_t k_tag_bytes = 32;
constexpr std::size_t k_expiry_bytes = 8;
constexpr std::size_t k_header_bytes = k_signed_magic.size() + k_tag_bytes + k_expiry_bytes;

std::string expiry_bytes(std::int64_t expires_unix_ms) {
    std::string bytes(k_expiry_bytes, '\0');
    auto value = static_cast<std::uint64_t>(expires_unix_ms);
    for (std::size_t i = 0; i < k_expiry_bytes; ++i) {
        bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    return bytes;
}

std::int64_t expiry_of(std::string_view bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < k_expiry_bytes; ++i) {
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    }
    return static_cast<std::int64_t>(value);
}

// HMAC-SHA256 over the name's length, the name, the expiry and the record: no name and
// record can be cut apart another way to give the same bytes.
std::string tag_of(const std::string& secret, std::string_view record, std::string_view name,
                   std::string_view expiry) {
    std::string message = std::to_string(name.size()) + ":";
    message.append(name);
    message.append(expiry);
    message.append(record);
    return hmac_sha256(secret, message);
}

}  // namespace

std::string RecordSeal::seal(std::string record, std::string_view name,
                             std::int64_t expires_unix_ms) const {
    if (!secret_) return record;
    const std::string expiry = expiry_bytes(expires_unix_ms);
    std::string sealed(k_signed_magic);
    sealed += tag_of(*secret_, record, name, expiry);
    sealed += expiry;
    sealed += record;
    return sealed;
}

std::variant<CachedResult, UnreadableRecord> RecordSeal::open(std::string_view stored,
                                                              std::string_view name,
                                                              std::int64_t now_unix_ms) const {
    const bool is_signed = stored.starts_with(k_signed_magic);
    if (is_signed && stored.size() < k_header_bytes) return UnreadableRecord{"truncated"};
    const std::string_view record = is_signed ? stored.substr(k_header_bytes) : stored;
    if (secret_) {
        if (!is_signed) return UnreadableRecord{"not signed, and --cache-key-file is set"};
        const std::string_view expiry =
            stored.substr(k_signed_magic.size() + k_tag_bytes, k_expiry_bytes);
        const std::string expected = tag_of(*secret_, record, name, expiry);
        if (!hmac_tags_match(expected, stored.substr(k_signed_magic.size(), k_tag_bytes))) {
            return UnreadableRecord{
                "its signature does not verify (--cache-key-file): written without this key, "
                "or for another key"};
        }
        if (expiry_of(expiry) <= now_unix_ms) {
            return UnreadableRecord{"it was signed to be used until " +
                                    std::to_string(expiry_of(expiry)) +
                                    " (unix ms) and was stored again after that"};
        }
    }
    return decode_cached_result(record);
}

}  // namespace lockrun
