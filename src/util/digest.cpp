// OpenSSL 3 deprecates the SHA*_Init/Update/Final functions in favour of EVP_Digest, which
// looks the algorithm up in OpenSSL's providers: that lookup cost a third of the
// instructions of a whole local run, for one hash of a key. These compute the same digest
// with no provider, no configuration and no global state set up (SPEC §6 hashes every key).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "util/digest.hpp"

#include <openssl/sha.h>

#include "util/hex.hpp"

namespace lockrun {
namespace {

std::string hex_of(const unsigned char* digest, std::size_t length) {
    return hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, bytes.data(), bytes.size());
    SHA256_Final(digest, &context);
    return hex_of(digest, sizeof digest);
}

std::string sha1_hex(std::string_view bytes) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA_CTX context;
    SHA1_Init(&context);
    SHA1_Update(&context, bytes.data(), bytes.size());
    SHA1_Final(digest, &context);
    return hex_of(digest, sizeof digest);
}

}  // namespace lockrun
