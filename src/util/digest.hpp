#pragma once
#include <string>
#include <string_view>

namespace lockrun {

// Lower-case hex SHA-256 of the bytes, through OpenSSL's digest functions.
std::string sha256_hex(std::string_view bytes);

// Lower-case hex SHA-1 of the bytes (the name Redis gives a script: EVALSHA).
std::string sha1_hex(std::string_view bytes);

}  // namespace lockrun
