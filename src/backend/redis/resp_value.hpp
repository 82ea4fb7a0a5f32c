#pragma once
// One RESP2 reply as a plain value: what hiredis's reader produced, copied into types
// that the script-reply parsers (and their tests) can build without hiredis.

#include <cstdint>
#include <string>
#include <vector>

namespace lockrun {

struct RespValue {
    enum class Type { nil, integer, string, status, error, array };
    Type type = Type::nil;
    std::int64_t integer = 0;
    std::string text;  // string, status, error
    std::vector<RespValue> elements;

    static RespValue nil() { return {}; }
    static RespValue of_integer(std::int64_t v) { return {Type::integer, v, {}, {}}; }
    static RespValue of_string(std::string s) { return {Type::string, 0, std::move(s), {}}; }
    static RespValue of_status(std::string s) { return {Type::status, 0, std::move(s), {}}; }
    static RespValue of_error(std::string s) { return {Type::error, 0, std::move(s), {}}; }
    static RespValue of_array(std::vector<RespValue> e) {
        return {Type::array, 0, {}, std::move(e)};
    }

    bool is_error() const { return type == Type::error; }
};

}  // namespace lockrun
