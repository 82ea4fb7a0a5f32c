#pragma once
// OpenSSL's error queue, for the TLS files (tls_context.cpp) and the TLS session
// (tls_channel.cpp) alike.

#include <openssl/err.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace lockrun {

// OpenSSL's error queue, taken whole (which also clears it, so that a stale entry can never
// be blamed on a later call).
class OpenSslErrors {
public:
    static OpenSslErrors take() {
        OpenSslErrors errors;
        while (unsigned long code = ERR_get_error()) errors.codes_.push_back(code);
        return errors;
    }

    // The first entry of the SSL library with one of `reasons`, or 0.
    unsigned long find_ssl_reason(std::initializer_list<int> reasons) const {
        for (unsigned long code : codes_) {
            if (ERR_GET_LIB(code) != ERR_LIB_SSL) continue;
            for (int reason : reasons) {
                if (ERR_GET_REASON(code) == reason) return code;
            }
        }
        return 0;
    }
    bool has_ssl_reason(std::initializer_list<int> reasons) const {
        return find_ssl_reason(reasons) != 0;
    }

    // An entry's reason in words ("no certificate or crl found"); the first entry's by default.
    std::string reason(unsigned long code = 0) const {
        if (code == 0 && !codes_.empty()) code = codes_.front();
        const char* text = code != 0 ? ERR_reason_error_string(code) : nullptr;
        return text ? text : "unknown error";
    }

    // Every entry, as OpenSSL prints them, for failures that have no better explanation.
    std::string text() const {
        if (codes_.empty()) return "no details from OpenSSL";
        std::string text;
        for (unsigned long code : codes_) {
            char buffer[256];
            ERR_error_string_n(code, buffer, sizeof buffer);
            if (!text.empty()) text += "; ";
            text += buffer;
        }
        return text;
    }

private:
    std::vector<unsigned long> codes_;
};

}  // namespace lockrun
