#pragma once
#include <string>
#include <string_view>

namespace lockrun {

// Lower-case hex SHA-256 of the bytes, through OpenSSL.
std::string sha256_hex(std::string_view bytes);

}  // namespace lockrun
