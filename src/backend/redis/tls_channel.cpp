#include "backend/redis/tls_channel.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

// A CA bundle of every public CA is ~200 KiB; anything past this is no PEM file we want.
constexpr off_t k_max_tls_file_bytes = 16 * 1024 * 1024;

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

bool is_ip_address(const std::string& host) {
    in6_addr address;
    return ::inet_pton(AF_INET, host.c_str(), &address) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// Reads a TLS file whole, for OpenSSL to parse from memory. Opened non-blocking and required
// to be a regular file, so that a FIFO (or a device) named by mistake or by malice is an error
// at once rather than an open(2) or read(2) that never returns; OpenSSL's own reasons for a
// file it could not load ("no start line") would not say when it is missing or unreadable.
std::string read_regular_file(const std::string& option, const std::string& path,
                              const std::string& where) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!file.valid()) {
        throw ConfigError("cannot read " + option + " " + path + " for " + where + ": " +
                          std::strerror(errno));
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) {
        throw ConfigError("cannot read " + option + " " + path + " for " + where + ": " +
                          std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        throw ConfigError(option + " " + path + " is not a regular file (for " + where + ")");
    }
    if (info.st_size > k_max_tls_file_bytes) {
        throw ConfigError(option + " " + path + " is too large for a PEM file (for " + where + ")");
    }
    std::string bytes;
    char buffer[16 * 1024];
    for (;;) {
        const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            throw ConfigError("cannot read " + option + " " + path + " for " + where + ": " +
                              std::strerror(errno));
        }
        if (got == 0) break;
        bytes.append(buffer, static_cast<std::size_t>(got));
        if (bytes.size() > static_cast<std::size_t>(k_max_tls_file_bytes)) {
            throw ConfigError(option + " " + path + " is too large for a PEM file (for " + where +
                              ")");
        }
    }
    return bytes;
}

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;

UniqueBio memory_bio(const std::string& bytes) {
    UniqueBio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) throw InternalError("cannot create a memory BIO: " + OpenSslErrors::take().text());
    return bio;
}

// No passphrase: an encrypted key is a file we cannot use, said in one line.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

// The CA bundle into the context's store. false when it holds no certificate.
bool load_ca_bundle(SSL_CTX* context, const std::string& pem) {
    UniqueBio bio = memory_bio(pem);
    STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio.get(), nullptr, no_passphrase, nullptr);
    if (!infos) return false;
    X509_STORE* store = SSL_CTX_get_cert_store(context);
    int added = 0;
    bool ok = true;
    for (int i = 0; i < sk_X509_INFO_num(infos); ++i) {
        X509_INFO* info = sk_X509_INFO_value(infos, i);
        if (!info->x509) continue;
        if (X509_STORE_add_cert(store, info->x509) != 1) {
            ok = false;
            break;
        }
        ++added;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return ok && added > 0;
}

// The first certificate is ours, the rest its chain (SSL_CTX_use_certificate_chain_file's
// reading, from memory).
bool load_certificate_chain(SSL_CTX* context, const std::string& pem) {
    UniqueBio bio = memory_bio(pem);
    X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr);
    if (!leaf) return false;
    const bool used = SSL_CTX_use_certificate(context, leaf) == 1;
    X509_free(leaf);
    if (!used || SSL_CTX_clear_chain_certs(context) != 1) return false;
    while (X509* issuer = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
        if (SSL_CTX_add0_chain_cert(context, issuer) != 1) {
            X509_free(issuer);
            return false;
        }
    }
    // The end of the chain is a "no start line" error: expected, not a failure.
    if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) ERR_clear_error();
    return ERR_peek_error() == 0;
}

enum class KeyLoad { used, not_a_key, not_the_certificates };

KeyLoad load_private_key(SSL_CTX* context, const std::string& pem) {
    UniqueBio bio = memory_bio(pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
    if (!key) return KeyLoad::not_a_key;
    const bool used = SSL_CTX_use_PrivateKey(context, key) == 1;
    EVP_PKEY_free(key);
    if (used) return KeyLoad::used;
    return ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_X509 &&
                   ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH
               ? KeyLoad::not_the_certificates
               : KeyLoad::not_a_key;
}

[[noreturn]] void throw_unusable_file(const std::string& option, const std::string& path,
                                      const std::string& where, const std::string& expected) {
    OpenSslErrors errors = OpenSslErrors::take();
    throw ConfigError("cannot use " + option + " " + path + " for " + where + ": " +
                      errors.reason() + " (it must be " + expected + ")");
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

// The server's certificate is verified against --tls-ca-file, or else the system's CAs.
void trust_certificate_authorities(SSL_CTX* context, const std::string& ca_file,
                                   const std::string& where) {
    if (!ca_file.empty()) {
        const std::string ca = read_regular_file("--tls-ca-file", ca_file, where);
        if (!load_ca_bundle(context, ca)) {
            throw_unusable_file("--tls-ca-file", ca_file, where, "PEM CA certificates");
        }
    } else if (SSL_CTX_set_default_verify_paths(context) != 1) {
        throw ConfigError("cannot load the system's CA certificates for " + where + ": " +
                          OpenSslErrors::take().text() + " (give --tls-ca-file)");
    }
}

// Mutual TLS: both files or neither, and the key must be the certificate's.
void use_client_certificate(SSL_CTX* context, const TlsSettings& settings,
                            const std::string& where) {
    if (settings.cert_file.empty() != settings.key_file.empty()) {
        throw ConfigError(
            "mutual TLS with " + where + " needs both --tls-cert-file and --tls-key-file (" +
            (settings.cert_file.empty() ? "--tls-cert-file" : "--tls-key-file") + " is missing)");
    }
    if (settings.cert_file.empty()) return;
    const std::string cert = read_regular_file("--tls-cert-file", settings.cert_file, where);
    const std::string key = read_regular_file("--tls-key-file", settings.key_file, where);
    if (!load_certificate_chain(context, cert)) {
        throw_unusable_file("--tls-cert-file", settings.cert_file, where, "a PEM certificate");
    }
    if (load_private_key(context, key) == KeyLoad::not_a_key) {
        throw_unusable_file("--tls-key-file", settings.key_file, where,
                            "an unencrypted PEM private key");
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        OpenSslErrors::take();
        throw ConfigError("--tls-key-file " + settings.key_file +
                          " is not the key of --tls-cert-file " + settings.cert_file + " (for " +
                          where + ")");
    }
}

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

// OpenSSL's configuration (OPENSSL_CONF, else /usr/lib/ssl/openssl.cnf), read once per
// process: lockrun tells OpenSSL not to read it on its own (cli/run_main.cpp), because only
// TLS needs it. A file that is missing is no error, as when OpenSSL reads it itself.
void load_openssl_configuration() {
    static const bool loaded = [] {
        ERR_clear_error();
        return CONF_modules_load_file(
                   nullptr, nullptr,
                   CONF_MFLAGS_DEFAULT_SECTION | CONF_MFLAGS_IGNORE_MISSING_FILE) > 0;
    }();
    if (!loaded) {
        throw InternalError("cannot read OpenSSL's configuration: " + OpenSslErrors::take().text());
    }
}

}  // namespace

TlsChannel::TlsChannel(const TlsSettings& settings, const std::string& host, std::string where)
    : where_(std::move(where)),
      name_(settings.server_name.empty() ? host : settings.server_name),
      has_client_certificate_(!settings.cert_file.empty()) {
    load_openssl_configuration();
    ERR_clear_error();
    context_.reset(SSL_CTX_new(TLS_client_method()));
    if (!context_) {
        throw InternalError("cannot create a TLS context: " + OpenSslErrors::take().text());
    }
    SSL_CTX_set_min_proto_version(context_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
    // OpenSSL's default would ask the terminal for the passphrase of an encrypted key and
    // block the run; no passphrase makes such a key a file we cannot use, said in one line.
    SSL_CTX_set_default_passwd_cb(context_.get(), no_passphrase);
    trust_certificate_authorities(context_.get(), settings.ca_file, where_);
    use_client_certificate(context_.get(), settings, where_);

    session_.reset(SSL_new(context_.get()));
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

}  // namespace lockrun
