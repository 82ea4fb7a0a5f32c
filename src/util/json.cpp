#include "util/json.hpp"

#include <openssl/evp.h>

#include "util/hex.hpp"
#include "util/utf8.hpp"

namespace lockrun {

std::string json_string(std::string_view text) {
    std::string out = "\"";
    while (!text.empty()) {
        size_t length = utf8_sequence_length(text);
        if (length == 0) {
            out += "\\ufffd";
            text.remove_prefix(1);
            continue;
        }
        char c = text[0];
        if (length > 1) {
            out.append(text.substr(0, length));
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (is_control_character(text.substr(0, 1))) {
            out += "\\u00" + hex(text.substr(0, 1));
        } else {
            out += c;
        }
        text.remove_prefix(length);
    }
    out += '"';
    return out;
}

JsonObject& JsonObject::raw(std::string_view name, std::string_view json) {
    if (text_.size() > 1) text_ += ',';
    text_ += '"';
    text_ += name;
    text_ += "\":";
    text_ += json;
    return *this;
}

std::string json_array(const std::vector<std::string>& elements) {
    std::string out = "[";
    for (const std::string& element : elements) {
        if (out.size() > 1) out += ',';
        out += element;
    }
    return out + "]";
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(length));
    return out;
}

}  // namespace lockrun
