#include "core/record_seal.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/errors.hpp"

namespace lockrun {
namespace {

constexpr std::string_view k_signed_magic = "LKRS";
constexpr std::size_t k_tag_bytes = 32;

// HMAC-SHA256 over the name's length, the name and the record: no name and record can be
// cut apart another way to give the same bytes.
std::string tag_of(const std::string& secret, std::string_view record, std::string_view name) {
    std::string message = std::to_string(name.size()) + ":";
    message.append(name);
    message.append(record);
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), tag,
             &length) == nullptr ||
        length != k_tag_bytes) {
        throw InternalError("OpenSSL cannot compute HMAC-SHA256");
    }
    return std::string(reinterpret_cast<const char*>(tag), length);
}

}  // namespace

std::string RecordSeal::seal(std::string record, std::string_view name) const {
    if (!secret_) return record;
    std::string sealed(k_signed_magic);
    sealed += tag_of(*secret_, record, name);
    sealed += record;
    return sealed;
}

std::variant<CachedResult, UnreadableRecord> RecordSeal::open(std::string_view stored,
                                                              std::string_view name) const {
    const bool is_signed = stored.starts_with(k_signed_magic);
    if (is_signed && stored.size() < k_signed_magic.size() + k_tag_bytes) {
        return UnreadableRecord{"truncated"};
    }
    const std::string_view record =
        is_signed ? stored.substr(k_signed_magic.size() + k_tag_bytes) : stored;
    if (secret_) {
        if (!is_signed) return UnreadableRecord{"not signed, and --cache-key-file is set"};
        const std::string expected = tag_of(*secret_, record, name);
        if (CRYPTO_memcmp(expected.data(), stored.data() + k_signed_magic.size(), k_tag_bytes) !=
            0) {
            return UnreadableRecord{
                "its signature does not verify (--cache-key-file): written without this key, "
                "or for another key"};
        }
    }
    return decode_cached_result(record);
}

}  // namespace lockrun
