#include "util/random_token.hpp"

#include <openssl/rand.h>

#include "core/errors.hpp"

namespace lockrun {

std::string random_token() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw InternalError("cannot get random bytes for the lock token");
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char byte : bytes) {
        token += k_hex[byte >> 4];
        token += k_hex[byte & 0xf];
    }
    return token;
}

}  // namespace lockrun
