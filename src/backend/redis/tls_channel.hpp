#pragma once
// TLS for the socket that RedisConnection owns (rediss://): Debian's hiredis 0.14 has no TLS,
// so lockrun runs OpenSSL itself. The channel never waits: every step is non-blocking and
// says what it needs (readable, writable), and the connection does the polling, with its
// deadlines and its InterruptSource, for plain and TLS connections alike.
//
// Failures that a configuration change must fix (a file that cannot be read, a certificate
// that fails verification, a server that does not speak TLS or rejects our certificate) are
// thrown as ConfigError (78, SPEC §3). Failures of the connection itself (closed, reset) are
// returned as values, as the plain socket reports them, and become BackendUnavailable (69)
// in the connection.

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "backend/redis/tls_context.hpp"
#include "backend/redis/tls_session.hpp"

namespace lockrun {

class TlsChannel final : public TlsSession {
public:
    // A client session that verifies the server's certificate (always) against
    // settings.ca_file or the system's CAs, and its name against settings.server_name or
    // else `host` (the URL's host: a name, or an IP address without brackets); presents a
    // client certificate when settings name one. `where` names the server in messages.
    // Throws ConfigError naming the file that cannot be used, or the cert/key mismatch.
    TlsChannel(const TlsSettings& settings, const std::string& host, std::string where);
    // The same, on a context already made from `settings` (and shared with other channels).
    TlsChannel(std::shared_ptr<const TlsContext> context, const TlsSettings& settings,
               const std::string& host, std::string where);

    TlsChannel(TlsChannel&&) noexcept;
    TlsChannel& operator=(TlsChannel&&) noexcept;
    ~TlsChannel() override;

    // Runs the session over `fd`: a connected, non-blocking stream socket that the caller
    // owns and keeps open for the channel's life. Call once, before handshake().
    void attach(int fd) override;

    // One step of the handshake: done, or what to wait for before calling again. Throws
    // ConfigError when the server's certificate fails verification or carries another name,
    // when the server does not speak TLS, or when it rejects our certificate.
    IoResult handshake() override;

    // After the handshake. Like recv(2)/send(2) on a non-blocking socket: either may want
    // the socket readable or writable. A write that wants to be retried must be retried
    // with the same bytes. Throw ConfigError when the server rejects our certificate (with
    // TLS 1.3 that is known only after the handshake).
    IoResult read(char* buffer, std::size_t size) override;
    IoResult write(std::string_view bytes) override;

    // Whether the session holds bytes already read from the socket: poll(2) on the socket
    // cannot see them, so a reader must read() again before it polls.
    bool has_buffered() const override;

    // Whether any byte came back from the server yet (a silent peer may be no TLS server).
    bool heard_from_server() const override;

private:
    struct SessionDeleter {
        void operator()(SSL* session) const { SSL_free(session); }
    };
    struct MethodDeleter {
        void operator()(BIO_METHOD* method) const { BIO_meth_free(method); }
    };

    // What SSL_get_error() makes of a call that returned rc (errno was saved_errno).
    IoResult after_failed_io(int rc, int saved_errno);
    // Throws the ConfigError for a server that refused our certificate (or its absence).
    [[noreturn]] void reject_client_certificate(const std::string& reason) const;

    std::string where_;
    std::string name_;  // what the certificate must be valid for
    bool has_client_certificate_;
    // Declared before the session that uses them, so destroyed after it.
    std::unique_ptr<BIO_METHOD, MethodDeleter> socket_method_;
    std::shared_ptr<const TlsContext> context_;
    std::unique_ptr<SSL, SessionDeleter> session_;
};

}  // namespace lockrun
