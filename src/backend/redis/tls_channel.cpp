#include "backend/redis/tls_channel.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>

#include "backend/redis/openssl_errors.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

bool is_ip_address(const std::string& host) {
    in6_addr address;
    return ::inet_pton(AF_INET, host.c_str(), &address) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// The socket BIO OpenSSL provides writes with write(2), which raises SIGPIPE when the server
// has gone; ours sends with MSG_NOSIGNAL, like the plain connection, so that a dropped TLS
// connection is an error to report and never a signal that kills lockrun silently.
int socket_of(BIO* bio) {
    return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

int socket_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t sent = ::send(socket_of(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<int>(sent);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
        return -1;
    }
}

int socket_read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    for (;;) {
        ssize_t got = ::recv(socket_of(bio), data, static_cast<size_t>(size), 0);
        if (got >= 0) return static_cast<int>(got);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
        return -1;
    }
}

long socket_control(BIO* bio, int command, long /*number*/, void* pointer) {
    switch (command) {
        case BIO_CTRL_FLUSH:  // nothing is buffered here
            return 1;
        case BIO_C_GET_FD:
            if (pointer != nullptr) *static_cast<int*>(pointer) = socket_of(bio);
            return socket_of(bio);
        default:
            return 0;
    }
}

// Alerts with which a server refuses the client certificate, or its absence.
constexpr std::initializer_list<int> k_client_certificate_alerts = {
    SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
    SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
    SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
    SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
    SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED,
    SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
    SSL_R_TLSV1_ALERT_UNKNOWN_CA,
    SSL_R_TLSV1_ALERT_ACCESS_DENIED,
    SSL_R_TLSV1_ALERT_DECRYPT_ERROR,
};

// What OpenSSL says when the first bytes back are not a TLS record: a plain Redis port
// answers the ClientHello with "-ERR ..." (or an HTTP server with "HTTP/1.1 ...").
constexpr std::initializer_list<int> k_not_tls = {
    SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL,
    SSL_R_HTTP_REQUEST,         SSL_R_HTTPS_PROXY_REQUEST,    SSL_R_RECORD_LENGTH_MISMATCH,
};

// The name (or address) the server's certificate must be valid for.
void expect_server_name(SSL* session, const std::string& name, const std::string& where) {
    X509_VERIFY_PARAM* verify = SSL_get0_param(session);
    if (is_ip_address(name)) {
        // An address is matched against the certificate's IP SANs; SNI carries names only.
        if (X509_VERIFY_PARAM_set1_ip_asc(verify, name.c_str()) != 1) {
            throw ConfigError("cannot verify " + where + " as address '" + name +
                              "' (check --tls-server-name)");
        }
        return;
    }
    X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(session, name.c_str()) != 1 ||
        SSL_set_tlsext_host_name(session, name.c_str()) != 1) {
        OpenSslErrors::take();
        throw ConfigError("cannot verify " + where + " as '" + name +
                          "': not a valid host name (check --tls-server-name)");
    }
}

}  // namespace

TlsChannel::TlsChannel(const TlsSettings& settings, const std::string& host, std::string where)
    : TlsChannel(std::make_shared<const TlsContext>(settings, where), settings, host, where) {}

TlsChannel::TlsChannel(std::shared_ptr<const TlsContext> context, const TlsSettings& settings,
                       const std::string& host, std::string where)
    : where_(std::move(where)),
      name_(settings.server_name.empty() ? host : settings.server_name),
      has_client_certificate_(!settings.cert_file.empty()),
      context_(std::move(context)) {
    ERR_clear_error();
    session_.reset(SSL_new(context_->get()));
    if (!session_) {
        throw InternalError("cannot create a TLS session: " + OpenSslErrors::take().text());
    }
    // A write retried after WANT_* resumes where the last one stopped, record by record.
    SSL_set_mode(session_.get(),
                 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    expect_server_name(session_.get(), name_, where_);
    SSL_set_connect_state(session_.get());

    // One method per channel rather than a shared static one: no global state to set up.
    socket_method_.reset(BIO_meth_new(BIO_TYPE_SOURCE_SINK, "lockrun socket"));
    if (!socket_method_ || BIO_meth_set_write(socket_method_.get(), socket_write) != 1 ||
        BIO_meth_set_read(socket_method_.get(), socket_read) != 1 ||
        BIO_meth_set_ctrl(socket_method_.get(), socket_control) != 1) {
        throw InternalError("cannot create a TLS socket BIO: " + OpenSslErrors::take().text());
    }
}

TlsChannel::TlsChannel(TlsChannel&&) noexcept = default;
TlsChannel& TlsChannel::operator=(TlsChannel&&) noexcept = default;
TlsChannel::~TlsChannel() = default;

void TlsChannel::attach(int fd) {
    BIO* bio = BIO_new(socket_method_.get());
    if (bio == nullptr) {
        throw InternalError("cannot create a TLS socket BIO: " + OpenSslErrors::take().text());
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    BIO_set_init(bio, 1);
    SSL_set_bio(session_.get(), bio, bio);  // the session owns it now
}

IoResult TlsChannel::handshake() {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(session_.get());
    int saved_errno = errno;
    if (rc == 1) return IoResult::moved(0);
    if (SSL_get_error(session_.get(), rc) != SSL_ERROR_SSL) return after_failed_io(rc, saved_errno);

    long verify = SSL_get_verify_result(session_.get());
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        OpenSslErrors::take();
        throw ConfigError(where_ + ": the server's certificate is not valid for '" + name_ +
                          "' (check --tls-server-name, or the host in the URL)");
    }
    if (verify != X509_V_OK) {
        OpenSslErrors::take();
        throw ConfigError(where_ + ": certificate verify failed: " +
                          X509_verify_cert_error_string(verify) + " (check --tls-ca-file)");
    }
    OpenSslErrors errors = OpenSslErrors::take();
    if (errors.has_ssl_reason(k_not_tls)) {
        throw ConfigError(where_ + " is not speaking TLS (check the port, or use redis://)");
    }
    if (errors.has_ssl_reason({SSL_R_UNEXPECTED_EOF_WHILE_READING})) {
        return IoResult::of(IoResult::Kind::closed);
    }
    if (unsigned long alert = errors.find_ssl_reason(k_client_certificate_alerts)) {
        reject_client_certificate(errors.reason(alert));
    }
    // No shared protocol version or cipher, and the like: the two ends disagree on TLS.
    throw ConfigError(where_ + ": TLS handshake failed: " + errors.text() +
                      " (check the server's TLS settings)");
}

IoResult TlsChannel::read(char* buffer, std::size_t size) {
    ERR_clear_error();
    errno = 0;
    int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
    int rc = SSL_read(session_.get(), buffer, chunk);
    int saved_errno = errno;
    if (rc > 0) return IoResult::moved(static_cast<std::size_t>(rc));
    return after_failed_io(rc, saved_errno);
}

IoResult TlsChannel::write(std::string_view bytes) {
    ERR_clear_error();
    errno = 0;
    int chunk = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30));
    int rc = SSL_write(session_.get(), bytes.data(), chunk);
    int saved_errno = errno;
    if (rc > 0) return IoResult::moved(static_cast<std::size_t>(rc));
    return after_failed_io(rc, saved_errno);
}

bool TlsChannel::has_buffered() const {
    return SSL_has_pending(session_.get()) == 1;
}

bool TlsChannel::heard_from_server() const {
    BIO* bio = SSL_get_rbio(session_.get());
    return bio != nullptr && BIO_number_read(bio) > 0;
}

IoResult TlsChannel::after_failed_io(int rc, int saved_errno) {
    switch (SSL_get_error(session_.get(), rc)) {
        case SSL_ERROR_WANT_READ:
            return IoResult::of(IoResult::Kind::want_read);
        case SSL_ERROR_WANT_WRITE:
            return IoResult::of(IoResult::Kind::want_write);
        case SSL_ERROR_ZERO_RETURN:  // the server's close_notify
            ERR_clear_error();
            return IoResult::of(IoResult::Kind::closed);
        case SSL_ERROR_SYSCALL: {
            OpenSslErrors::take();  // nothing there that errno does not say better
            if (saved_errno == 0) return IoResult::of(IoResult::Kind::closed);
            return IoResult::failure(std::string("connection lost: ") + std::strerror(saved_errno),
                                     saved_errno);
        }
        case SSL_ERROR_SSL: {
            OpenSslErrors errors = OpenSslErrors::take();
            if (errors.has_ssl_reason({SSL_R_UNEXPECTED_EOF_WHILE_READING})) {
                return IoResult::of(IoResult::Kind::closed);
            }
            // With TLS 1.3 the client's handshake is over before the server has looked at
            // its certificate: a refusal arrives as the answer to the first command.
            if (unsigned long alert = errors.find_ssl_reason(k_client_certificate_alerts)) {
                reject_client_certificate(errors.reason(alert));
            }
            return IoResult::failure("TLS error: " + errors.text());
        }
        default:
            return IoResult::failure("TLS error: " + OpenSslErrors::take().text());
    }
}

void TlsChannel::reject_client_certificate(const std::string& reason) const {
    if (!has_client_certificate_) {
        throw ConfigError(where_ + " requires a client certificate: " + reason +
                          " (give --tls-cert-file and --tls-key-file)");
    }
    throw ConfigError(where_ + " rejected the client certificate: " + reason +
                      " (check --tls-cert-file and --tls-key-file)");
}

std::unique_ptr<TlsSession> start_tls_session(const SharedTlsContext& contexts,
                                              const TlsSettings& settings, const std::string& host,
                                              std::string where) {
    return std::make_unique<TlsChannel>(contexts.get(settings, where), settings, host,
                                        std::move(where));
}

}  // namespace lockrun
