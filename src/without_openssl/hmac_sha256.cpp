// The lockrun without OpenSSL: run_main runs lockrun-openssl in its place whenever
// --cache-key-file is set, so a record signed or checked here is a bug.
#include "util/hmac_sha256.hpp"

#include "core/errors.hpp"

namespace lockrun {
namespace {

[[noreturn]] void no_hmac_here() {
    throw InternalError(
        "this lockrun carries no HMAC, and lockrun-openssl was not run for "
        "--cache-key-file");
}

}  // namespace

std::string hmac_sha256(std::string_view, std::string_view) {
    no_hmac_here();
}

bool hmac_tags_match(std::string_view, std::string_view) {
    no_hmac_here();
}

}  // namespace lockrun
