#include "util/sha256_stream.hpp"

#include <openssl/evp.h>

#include "core/errors.hpp"
#include "util/hex.hpp"

namespace lockrun {

void Sha256Stream::Free::operator()(evp_md_ctx_st* context) const {
    EVP_MD_CTX_free(context);
}

Sha256Stream::Sha256Stream() : context_(EVP_MD_CTX_new()) {
    if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
        throw InternalError("OpenSSL cannot compute SHA-256");
    }
}

Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::update(std::string_view bytes) {
    if (EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1) {
        throw InternalError("OpenSSL failed to hash the key's inputs");
    }
}

std::string Sha256Stream::hex_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest, &length) != 1) {
        throw InternalError("OpenSSL failed to hash the key's inputs");
    }
    return hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace lockrun
