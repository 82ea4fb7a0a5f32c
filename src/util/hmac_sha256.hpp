#pragma once
// HMAC-SHA256, for the records that --cache-key-file signs (core/record_seal.hpp). OpenSSL's
// HMAC needs its provider machinery, which only lockrun-openssl links in; the lockrun
// without it runs lockrun-openssl in its place whenever --cache-key-file is set
// (exec/openssl_companion.hpp), and its own hmac_sha256() throws InternalError.

#include <string>
#include <string_view>

namespace lockrun {

// The 32-byte tag of `message` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view message);

// Whether two tags of the same length are equal, in a time that does not tell where they
// differ (a forger learns nothing from how long a check took).
bool hmac_tags_match(std::string_view expected, std::string_view given);

}  // namespace lockrun
