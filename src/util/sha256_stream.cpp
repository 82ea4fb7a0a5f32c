// OpenSSL 3 deprecates SHA256_Init/Update/Final; EVP_Digest* would link OpenSSL's provider
// machinery into the lockrun that carries no TLS (util/digest.cpp, backend/redis/tls_session.hpp).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "util/sha256_stream.hpp"

#include <openssl/sha.h>

#include "util/hex.hpp"

namespace lockrun {

Sha256Stream::Sha256Stream() : context_(std::make_unique<SHA256_CTX>()) {
    SHA256_Init(context_.get());
}

Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::update(std::string_view bytes) {
    SHA256_Update(context_.get(), bytes.data(), bytes.size());
}

std::string Sha256Stream::hex_digest() {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(digest, context_.get());
    return hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace lockrun
