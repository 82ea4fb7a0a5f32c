#pragma once
// SHA-256 of bytes given piece by piece, for inputs too large to hold: the files of
// --key-file (SPEC §1). OpenSSL's SHA256_* functions, not EVP: see util/digest.cpp.

#include <memory>
#include <string>
#include <string_view>

struct SHA256state_st;

namespace lockrun {

class Sha256Stream {
public:
    Sha256Stream();
    Sha256Stream(Sha256Stream&&) noexcept;
    Sha256Stream& operator=(Sha256Stream&&) noexcept;
    ~Sha256Stream();

    void update(std::string_view bytes);
    // Lower-case hex of the digest of everything given; the stream is spent.
    std::string hex_digest();

private:
    std::unique_ptr<SHA256state_st> context_;
};

}  // namespace lockrun
