#include "util/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "util/hex.hpp"

namespace lockrun {

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    // EVP_Digest fails only when OpenSSL itself is broken (no SHA-256 provider loaded); a
    // key hashed to garbage would silently share locks, so that must not pass quietly.
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not compute SHA-256");
    }
    return hex(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

}  // namespace lockrun
