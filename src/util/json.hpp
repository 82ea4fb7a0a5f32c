#pragma once
// Just enough JSON output for `--json`: strings escaped per RFC 8259 (bytes that are not
// valid UTF-8 become U+FFFD, so the output is always valid JSON).

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace lockrun {

// The JSON string literal for `text`, quotes included; valid UTF-8 (util/utf8.hpp) is kept
// exactly.
std::string json_string(std::string_view text);

// A JSON object built field by field, in the order written; str() closes it. Names are
// the caller's literals, written as they are.
class JsonObject {
public:
    JsonObject& string(std::string_view name, std::string_view text) {
        return raw(name, json_string(text));
    }
    JsonObject& number(std::string_view name, std::integral auto value) {
        return raw(name, std::to_string(value));
    }
    JsonObject& boolean(std::string_view name, bool value) {
        return raw(name, value ? "true" : "false");
    }
    // A value that is JSON already: null, a nested object, an array.
    JsonObject& raw(std::string_view name, std::string_view json);
    std::string str() const { return text_ + "}"; }

private:
    std::string text_ = "{";
};

// "[a,b]" from values that are JSON already.
std::string json_array(const std::vector<std::string>& elements);

// Standard base64 (RFC 4648) of `bytes`, through OpenSSL.
std::string base64(std::string_view bytes);

}  // namespace lockrun
