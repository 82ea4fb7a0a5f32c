#pragma once
// SHA-256 of bytes given piece by piece (OpenSSL's EVP), for inputs too large to hold: the
// files of --key-file (SPEC §1).

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

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
    struct Free {
        void operator()(evp_md_ctx_st* context) const;
    };
    std::unique_ptr<evp_md_ctx_st, Free> context_;
};

}  // namespace lockrun
