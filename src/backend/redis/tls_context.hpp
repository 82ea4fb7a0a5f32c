#pragma once
// What TLS needs the same for every connection to one server: OpenSSL's configuration, the
// CAs trusted, the client certificate. Making it reads the CA bundle, ~47 ms for the
// system's; a backend makes it once (SharedTlsContext) and its connections share it: a
// waiter opens two, and a renewal may open another.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "backend/redis/tls_session.hpp"

namespace lockrun {

class TlsContext {
public:
    // Verifies servers (always) against settings.ca_file or the system's CAs; presents the
    // client certificate when settings name one. `where` names the server in messages.
    // Throws ConfigError naming the file that cannot be used, or the cert/key mismatch.
    TlsContext(const TlsSettings& settings, const std::string& where);
    SSL_CTX* get() const { return context_.get(); }

private:
    struct ContextDeleter {
        void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
    };
    std::unique_ptr<SSL_CTX, ContextDeleter> context_;
};

}  // namespace lockrun
