#include "util/hmac_sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/errors.hpp"

namespace lockrun {

std::string hmac_sha256(std::string_view key, std::string_view message) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), tag,
             &length) == nullptr ||
        length != SHA256_DIGEST_LENGTH) {
        throw InternalError("OpenSSL cannot compute HMAC-SHA256");
    }
    return std::string(reinterpret_cast<const char*>(tag), length);
}

bool hmac_tags_match(std::string_view expected, std::string_view given) {
    return expected.size() == given.size() &&
           CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace lockrun
