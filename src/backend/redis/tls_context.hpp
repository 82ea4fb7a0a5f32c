#pragma once
// What TLS needs the same for every connection to one server: OpenSSL's configuration, the
// CAs trusted, the client certificate. Making it reads the CA bundle, ~47 ms for the
// system's; a backend makes it once (SharedTlsContext) and its connections share it: a
// waiter opens two, and a renewal may open another.

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace lockrun {

// For rediss:// URLs. Empty fields: the system's CAs, the URL's host name, no client
// certificate.
struct TlsSettings {
    std::string ca_file;
    std::string cert_file;  // client certificate (mutual TLS), with key_file
    std::string key_file;
    std::string server_name;  // the name the certificate must carry, if not the URL's host
};

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

// One TlsContext for every copy of a backend's connection settings, made on first use.
class SharedTlsContext {
public:
    // The context, made from `settings` by the first call (which throws as TlsContext does;
    // a later call tries again).
    std::shared_ptr<const TlsContext> get(const TlsSettings& settings,
                                          const std::string& where) const;

private:
    std::shared_ptr<std::shared_ptr<const TlsContext>> made_ =
        std::make_shared<std::shared_ptr<const TlsContext>>();
};

}  // namespace lockrun
