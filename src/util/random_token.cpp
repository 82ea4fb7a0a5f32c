#include "util/random_token.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "util/hex.hpp"

namespace lockrun {

// The kernel's CSPRNG directly, not OpenSSL's DRBG (which seeds itself from the same
// source): instantiating the DRBG fetched ciphers from OpenSSL's providers and cost 40% of
// the instructions of a whole local run, for 16 bytes.
std::string random_token() {
    unsigned char bytes[16];
    std::size_t have = 0;
    while (have < sizeof bytes) {
        // Blocks only before the kernel's pool is first seeded, early at boot.
        ssize_t got = ::getrandom(bytes + have, sizeof bytes - have, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            throw std::runtime_error(std::string("cannot get random bytes from the kernel: ") +
                                     std::strerror(got < 0 ? errno : EIO));
        }
        have += static_cast<std::size_t>(got);
    }
    return hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace lockrun
