#include "backend/redis/tls_context.hpp"

#include <fcntl.h>
#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "backend/redis/openssl_errors.hpp"
#include "core/errors.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

// A CA bundle of every public CA is ~200 KiB; anything past this is no PEM file we want.
constexpr off_t k_max_tls_file_bytes = 16 * 1024 * 1024;

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

// OpenSSL's configuration (OPENSSL_CONF, else /usr/lib/ssl/openssl.cnf), read once per
// process and only for TLS, the one part of lockrun that needs what it says (the system's
// crypto policy). Nothing else initialises OpenSSL: the key digests and the run token use
// none of its providers (util/digest.cpp, util/random_token.cpp). A file that is missing is
// no error, as when OpenSSL reads it itself.
void load_openssl_configuration() {
    static const bool loaded = [] {
        // First: OpenSSL reads the file by itself at its first use unless told not to.
        OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
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

TlsContext::TlsContext(const TlsSettings& settings, const std::string& where) {
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
    trust_certificate_authorities(context_.get(), settings.ca_file, where);
    use_client_certificate(context_.get(), settings, where);
}

std::shared_ptr<const TlsContext> SharedTlsContext::get(const TlsSettings& settings,
                                                        const std::string& where) const {
    if (!*made_) *made_ = std::make_shared<const TlsContext>(settings, where);
    return *made_;
}

}  // namespace lockrun
