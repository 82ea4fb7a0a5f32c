#include "backend/redis/tls_channel.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "backend/redis/redis_connection.hpp"
#include "core/errors.hpp"
#include "util/unique_fd.hpp"

// The channel against an in-process OpenSSL server on a socketpair, with certificates made
// here: each case drives both ends of the handshake in one thread, non-blocking, so that
// what the channel decides (verified, wrong name, not TLS, refused) is checked without a
// redis-server. tests/cli/redis/tls.bats does the same against the real one.

namespace lockrun {
namespace {

const std::string k_where = "rediss://localhost:6379";

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct ContextDeleter {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SessionDeleter {
    void operator()(SSL* session) const { SSL_free(session); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

struct Identity {
    Key key;
    Cert cert;
};

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    ASSERT_NE(extension, nullptr) << value;
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
}

// A P-256 key and a certificate for it, signed by `issuer` (self-signed when null).
Identity make_identity(long serial, const std::string& common_name, const Identity* issuer,
                       bool is_ca, const char* subject_alt_names = nullptr) {
    Identity made{Key(EVP_EC_gen("P-256")), Cert(X509_new())};
    X509* cert = made.cert.get();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, made.key.get());
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509* issuer_cert = issuer ? issuer->cert.get() : cert;
    X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
    add_extension(cert, issuer_cert, NID_basic_constraints,
                  is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (is_ca) add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (subject_alt_names) {
        add_extension(cert, issuer_cert, NID_subject_alt_name, subject_alt_names);
    }
    X509_sign(cert, issuer ? issuer->key.get() : made.key.get(), EVP_sha256());
    return made;
}

class TlsChannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = ::testing::TempDir() + "tls_channel_XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        ca_ = make_identity(1, "test-ca", nullptr, true);
        other_ca_ = make_identity(2, "other-ca", nullptr, true);
        server_ = make_identity(3, "localhost", &ca_, false, "DNS:localhost,IP:127.0.0.1");
        client_ = make_identity(4, "lockrun-client", &ca_, false);
        ca_file_ = write_cert("ca.crt", ca_);
        other_ca_file_ = write_cert("other-ca.crt", other_ca_);
        client_cert_file_ = write_cert("client.crt", client_);
        client_key_file_ = write_key("client.key", client_);
        server_key_file_ = write_key("server.key", server_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write_cert(const std::string& name, const Identity& identity) {
        std::string path = dir_ + "/" + name;
        FILE* file = std::fopen(path.c_str(), "w");
        EXPECT_NE(file, nullptr);
        PEM_write_X509(file, identity.cert.get());
        std::fclose(file);
        return path;
    }
    std::string write_key(const std::string& name, const Identity& identity) {
        std::string path = dir_ + "/" + name;
        FILE* file = std::fopen(path.c_str(), "w");
        EXPECT_NE(file, nullptr);
        PEM_write_PrivateKey(file, identity.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(file);
        return path;
    }
    std::string write_text(const std::string& name, const std::string& text) {
        std::string path = dir_ + "/" + name;
        FILE* file = std::fopen(path.c_str(), "w");
        std::fputs(text.c_str(), file);
        std::fclose(file);
        return path;
    }

    TlsSettings trusting_our_ca() const { return {ca_file_, "", "", ""}; }

    // A connected, non-blocking socketpair: [0] for the channel, [1] for the server.
    void make_sockets() {
        int fds[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        client_fd_.reset(fds[0]);
        server_fd_.reset(fds[1]);
    }

    // A TLS server session on server_fd_ with server_'s certificate; `require_client_cert`
    // makes it refuse a client without a certificate from ca_.
    void start_server(bool require_client_cert = false) {
        server_context_.reset(SSL_CTX_new(TLS_server_method()));
        ASSERT_EQ(SSL_CTX_use_certificate(server_context_.get(), server_.cert.get()), 1);
        ASSERT_EQ(SSL_CTX_use_PrivateKey(server_context_.get(), server_.key.get()), 1);
        if (require_client_cert) {
            ASSERT_EQ(
                SSL_CTX_load_verify_locations(server_context_.get(), ca_file_.c_str(), nullptr), 1);
            SSL_CTX_set_verify(server_context_.get(),
                               SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
        }
        server_session_.reset(SSL_new(server_context_.get()));
        SSL_set_fd(server_session_.get(), server_fd_.get());
        SSL_set_accept_state(server_session_.get());
    }

    // Runs both ends of the handshake until the client's is done (true), or the client
    // reports the connection closed or failed (false). The client's ConfigError propagates.
    bool handshake(TlsChannel& client) {
        bool server_done = false;
        for (int round = 0; round < 100; ++round) {
            IoResult step = client.handshake();
            if (!server_done && server_session_) {
                int rc = SSL_accept(server_session_.get());
                server_done = rc == 1 || (rc <= 0 && SSL_get_error(server_session_.get(), rc) !=
                                                         SSL_ERROR_WANT_READ);
                ERR_clear_error();
            }
            if (step.kind == IoResult::Kind::done) return true;
            if (step.kind == IoResult::Kind::closed || step.kind == IoResult::Kind::failed) {
                return false;
            }
        }
        ADD_FAILURE() << "the handshake did not finish";
        return false;
    }

    // Lets the server read what the client sent (and answer alerts); returns what it read.
    std::string server_reads() {
        char buffer[256];
        int rc = SSL_read(server_session_.get(), buffer, sizeof buffer);
        ERR_clear_error();
        return rc > 0 ? std::string(buffer, static_cast<size_t>(rc)) : "";
    }

    std::string dir_;
    Identity ca_, other_ca_, server_, client_;
    std::string ca_file_, other_ca_file_, client_cert_file_, client_key_file_, server_key_file_;
    UniqueFd client_fd_, server_fd_;
    std::unique_ptr<SSL_CTX, ContextDeleter> server_context_;
    std::unique_ptr<SSL, SessionDeleter> server_session_;
};

// The message of the ConfigError that `step` throws, or "" if it throws none.
std::string config_error_of(const std::function<void()>& step) {
    try {
        step();
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

TEST_F(TlsChannelTest, VerifiesTheServerAndCarriesBytesBothWays) {
    make_sockets();
    start_server();
    TlsChannel client(trusting_our_ca(), "localhost", k_where);
    client.attach(client_fd_.get());
    ASSERT_TRUE(handshake(client));

    IoResult written = client.write("PING\r\n");
    ASSERT_EQ(written.kind, IoResult::Kind::done);
    EXPECT_EQ(written.bytes, 6u);
    EXPECT_EQ(server_reads(), "PING\r\n");

    ASSERT_EQ(SSL_write(server_session_.get(), "+PONG\r\n", 7), 7);
    char buffer[3];
    IoResult got = client.read(buffer, sizeof buffer);
    ASSERT_EQ(got.kind, IoResult::Kind::done);
    EXPECT_EQ(std::string(buffer, got.bytes), "+PO");
    // The rest of the record is decrypted already: the socket has nothing for poll(2).
    EXPECT_TRUE(client.has_buffered());
    std::string rest;
    while (client.has_buffered()) {
        got = client.read(buffer, sizeof buffer);
        ASSERT_EQ(got.kind, IoResult::Kind::done);
        rest.append(buffer, got.bytes);
    }
    EXPECT_EQ(rest, "NG\r\n");
    EXPECT_EQ(client.read(buffer, sizeof buffer).kind, IoResult::Kind::want_read);
}

TEST_F(TlsChannelTest, AcceptsAnIpAddressThatTheCertificateNames) {
    make_sockets();
    start_server();
    TlsChannel client(trusting_our_ca(), "127.0.0.1", k_where);
    client.attach(client_fd_.get());
    EXPECT_TRUE(handshake(client));
}

TEST_F(TlsChannelTest, ServerNameOverridesTheUrlHost) {
    make_sockets();
    start_server();
    TlsChannel client({ca_file_, "", "", "localhost"}, "10.1.2.3", k_where);
    client.attach(client_fd_.get());
    EXPECT_TRUE(handshake(client));
}

TEST_F(TlsChannelTest, RefusesACertificateFromAnotherCa) {
    make_sockets();
    start_server();
    TlsChannel client({other_ca_file_, "", "", ""}, "localhost", k_where);
    client.attach(client_fd_.get());
    std::string message = config_error_of([&] { handshake(client); });
    EXPECT_NE(message.find(k_where + ": certificate verify failed: "), std::string::npos)
        << message;
    EXPECT_NE(message.find("(check --tls-ca-file)"), std::string::npos) << message;
    EXPECT_EQ(ERR_peek_error(), 0u) << "the OpenSSL error queue is left empty";
}

TEST_F(TlsChannelTest, RefusesACertificateForAnotherName) {
    make_sockets();
    start_server();
    TlsChannel client({ca_file_, "", "", "wrong.example"}, "localhost", k_where);
    client.attach(client_fd_.get());
    std::string message = config_error_of([&] { handshake(client); });
    EXPECT_NE(message.find("not valid for 'wrong.example'"), std::string::npos) << message;
    EXPECT_NE(message.find("--tls-server-name"), std::string::npos) << message;
}

TEST_F(TlsChannelTest, RefusesAnIpAddressThatTheCertificateDoesNotName) {
    make_sockets();
    start_server();
    TlsChannel client(trusting_our_ca(), "127.0.0.2", k_where);
    client.attach(client_fd_.get());
    std::string message = config_error_of([&] { handshake(client); });
    EXPECT_NE(message.find("not valid for '127.0.0.2'"), std::string::npos) << message;
}

TEST_F(TlsChannelTest, RecognisesAPlainRedisAnswer) {
    make_sockets();
    TlsChannel client(trusting_our_ca(), "localhost", k_where);
    client.attach(client_fd_.get());
    EXPECT_EQ(client.handshake().kind, IoResult::Kind::want_read);
    std::string reply = "-ERR unknown command\r\n";
    ASSERT_EQ(::write(server_fd_.get(), reply.data(), reply.size()),
              static_cast<ssize_t>(reply.size()));
    std::string message = config_error_of([&] { client.handshake(); });
    EXPECT_EQ(message, k_where + " is not speaking TLS (check the port, or use redis://)");
}

TEST_F(TlsChannelTest, ReportsAServerThatHangsUpAsClosed) {
    make_sockets();
    TlsChannel client(trusting_our_ca(), "localhost", k_where);
    client.attach(client_fd_.get());
    EXPECT_EQ(client.handshake().kind, IoResult::Kind::want_read);
    EXPECT_FALSE(client.heard_from_server());
    char hello[4096];
    EXPECT_GT(::read(server_fd_.get(), hello, sizeof hello), 0);  // else closing resets
    server_fd_.reset();
    IoResult step = client.handshake();
    EXPECT_EQ(step.kind, IoResult::Kind::closed) << step.error;
}

TEST_F(TlsChannelTest, PresentsAClientCertificate) {
    make_sockets();
    start_server(true);
    TlsChannel client({ca_file_, client_cert_file_, client_key_file_, ""}, "localhost", k_where);
    client.attach(client_fd_.get());
    ASSERT_TRUE(handshake(client));
    ASSERT_EQ(client.write("PING\r\n").kind, IoResult::Kind::done);
    EXPECT_EQ(server_reads(), "PING\r\n");
}

TEST_F(TlsChannelTest, ReportsAServerThatWantsAClientCertificate) {
    make_sockets();
    start_server(true);
    TlsChannel client(trusting_our_ca(), "localhost", k_where);
    client.attach(client_fd_.get());
    // TLS 1.3: the client is done before the server has looked at its (absent) certificate.
    ASSERT_TRUE(handshake(client));
    server_reads();  // the server refuses, with an alert
    char buffer[64];
    std::string message = config_error_of([&] { client.read(buffer, sizeof buffer); });
    EXPECT_NE(message.find(k_where + " requires a client certificate"), std::string::npos)
        << message;
    EXPECT_NE(message.find("--tls-cert-file"), std::string::npos) << message;
}

TEST_F(TlsChannelTest, NamesACaFileThatCannotBeRead) {
    std::string missing = dir_ + "/missing.crt";
    std::string message = config_error_of([&] { TlsChannel({missing, "", "", ""}, "h", k_where); });
    EXPECT_EQ(message, "cannot read --tls-ca-file " + missing + " for " + k_where +
                           ": No such file or directory");
}

TEST_F(TlsChannelTest, RefusesATlsFileThatIsAFifoWithoutBlocking) {
    // A FIFO with no writer would block open(2) forever: it is refused as not a regular file.
    std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(config_error_of([&] {
                  TlsChannel({fifo, "", "", ""}, "h", k_where);
              }),
              "--tls-ca-file " + fifo + " is not a regular file (for " + k_where + ")");
    EXPECT_EQ(config_error_of([&] {
                  TlsChannel({ca_file_, fifo, client_key_file_, ""}, "h", k_where);
              }),
              "--tls-cert-file " + fifo + " is not a regular file (for " + k_where + ")");
    EXPECT_EQ(config_error_of([&] {
                  TlsChannel({ca_file_, client_cert_file_, fifo, ""}, "h", k_where);
              }),
              "--tls-key-file " + fifo + " is not a regular file (for " + k_where + ")");
}

TEST_F(TlsChannelTest, RefusesATlsFileThatIsADirectory) {
    EXPECT_EQ(config_error_of([&] {
                  TlsChannel({dir_, "", "", ""}, "h", k_where);
              }),
              "--tls-ca-file " + dir_ + " is not a regular file (for " + k_where + ")");
}

TEST_F(TlsChannelTest, NamesACaFileThatHoldsNoCertificate) {
    std::string junk = write_text("junk.crt", "not a certificate\n");
    std::string message = config_error_of([&] { TlsChannel({junk, "", "", ""}, "h", k_where); });
    EXPECT_EQ(message.rfind("cannot use --tls-ca-file " + junk + " for " + k_where + ": ", 0), 0u)
        << message;
}

TEST_F(TlsChannelTest, WantsACertificateAndAKeyTogether) {
    std::string message = config_error_of([&] {
        TlsChannel({ca_file_, client_cert_file_, "", ""}, "h", k_where);
    });
    EXPECT_NE(message.find("--tls-key-file is missing"), std::string::npos) << message;
    message = config_error_of([&] {
        TlsChannel({ca_file_, "", client_key_file_, ""}, "h", k_where);
    });
    EXPECT_NE(message.find("--tls-cert-file is missing"), std::string::npos) << message;
}

TEST_F(TlsChannelTest, NamesAKeyThatDoesNotMatchTheCertificate) {
    std::string message = config_error_of([&] {
        TlsChannel({ca_file_, client_cert_file_, server_key_file_, ""}, "h", k_where);
    });
    EXPECT_EQ(message, "--tls-key-file " + server_key_file_ +
                           " is not the key of --tls-cert-file " + client_cert_file_ + " (for " +
                           k_where + ")");
}

TEST_F(TlsChannelTest, NamesAnEncryptedKeyInsteadOfAskingForItsPassphrase) {
    std::string path = dir_ + "/encrypted.key";
    FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr);
    static const char passphrase[] = "secret";
    PEM_write_PrivateKey(file, client_.key.get(), EVP_aes_256_cbc(),
                         reinterpret_cast<const unsigned char*>(passphrase), sizeof passphrase - 1,
                         nullptr, nullptr);
    std::fclose(file);
    std::string message = config_error_of([&] {
        TlsChannel({ca_file_, client_cert_file_, path, ""}, "h", k_where);
    });
    EXPECT_EQ(message.rfind("cannot use --tls-key-file " + path, 0), 0u) << message;
    EXPECT_NE(message.find("unencrypted"), std::string::npos) << message;
}

TEST_F(TlsChannelTest, NamesAKeyFileThatHoldsNoKey) {
    std::string message = config_error_of([&] {
        TlsChannel({ca_file_, client_cert_file_, client_cert_file_, ""}, "h", k_where);
    });
    EXPECT_EQ(message.rfind("cannot use --tls-key-file " + client_cert_file_, 0), 0u) << message;
}

// A signal that arrives while RedisConnection waits for the server's half of the handshake
// ends the wait at once (the handshake polls the InterruptSource like every other wait).
class SignalAfter : public InterruptSource {
public:
    explicit SignalAfter(std::chrono::milliseconds delay) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        read_.reset(fds[0]);
        write_.reset(fds[1]);
        sender_ = std::thread([this, delay] {
            std::this_thread::sleep_for(delay);
            EXPECT_EQ(::write(write_.get(), "x", 1), 1);
        });
    }
    ~SignalAfter() override { sender_.join(); }
    int fd() const override { return read_.get(); }
    void throw_if_interrupted() override {
        pollfd p{read_.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) == 1) throw Interrupted(SIGTERM);
    }

private:
    UniqueFd read_, write_;
    std::thread sender_;
};

TEST_F(TlsChannelTest, ASignalEndsAHandshakeThatGetsNoAnswer) {
    // A listener that never accepts: the kernel completes the TCP handshake, nobody answers
    // the ClientHello.
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);

    RedisUrl url;
    url.transport = RedisUrl::Transport::tls;
    url.host = "127.0.0.1";
    url.port = ntohs(address.sin_port);
    ConnectionSettings settings{url, Millis(10'000), Millis(10'000), trusting_our_ca(), {}};
    SignalAfter signal(std::chrono::milliseconds(200));
    auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(RedisConnection::open(settings, &signal), Interrupted);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

}  // namespace
}  // namespace lockrun
