// The lockrun without OpenSSL: run_main runs lockrun-openssl in its place whenever
// --cache-key-file is set, so a record signed or checked here is a bug.
#include "util/hmac_sha256.hpp"

#include "core/errors.hpp"

namespace lockrun {

std::string hmac_sha256(std::string_view, std::string_view) {
    throw InternalError(
        "this lockrun carries no HMAC, and lockrun-openssl was not run for "
        "--cache-key-file");
}

}  // namespace lockrun
