#include "util/random_token.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "util/hex.hpp"

namespace lockrun {

std::string random_token() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("cannot get random bytes from OpenSSL");
    }
    return hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace lockrun
