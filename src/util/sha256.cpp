#include "util/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace lockrun {

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    // EVP_Digest fails only when OpenSSL itself is broken (no SHA-256 provider loaded); a
    // key hashed to garbage would silently share locks, so that must not pass quietly.
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not compute SHA-256");
    }
    constexpr char k_hex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * digest_len);
    for (unsigned int i = 0; i < digest_len; ++i) {
        hex += k_hex[digest[i] >> 4];
        hex += k_hex[digest[i] & 0x0f];
    }
    return hex;
}

}  // namespace lockrun
