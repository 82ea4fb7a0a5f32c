#pragma once
// What RedisConnection needs of TLS (rediss://), without OpenSSL's headers or code: the
// connection's I/O loops drive a TlsSession as they drive a plain socket. TlsChannel
// (tls_channel.hpp) is the session; only lockrun-openssl, the build with OpenSSL linked in,
// has it. The lockrun that most runs start carries no OpenSSL (its relocations alone cost
// every start ~0.3 ms and ~100 page faults) and runs lockrun-openssl in its own place for a
// rediss:// URL (exec/openssl_companion.hpp), so it never starts a session itself.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace lockrun {

// What one non-blocking read, write or handshake step did (plain socket or TLS).
struct IoResult {
    enum class Kind {
        done,        // bytes moved (a read or write), or the handshake is complete
        want_read,   // try again once the socket is readable
        want_write,  // try again once the socket is writable
        closed,      // the server closed the connection
        failed,      // the connection broke: `error` says how
    };
    Kind kind = Kind::done;
    std::size_t bytes = 0;
    std::string error;
    int system_error = 0;  // failed: the errno behind it, if any

    static IoResult moved(std::size_t bytes) { return {Kind::done, bytes, {}, 0}; }
    static IoResult of(Kind kind) { return {kind, 0, {}, 0}; }
    static IoResult failure(std::string error, int system_error = 0) {
        return {Kind::failed, 0, std::move(error), system_error};
    }
};

// For rediss:// URLs. Empty fields: the system's CAs, the URL's host name, no client
// certificate.
struct TlsSettings {
    std::string ca_file;
    std::string cert_file;  // client certificate (mutual TLS), with key_file
    std::string key_file;
    std::string server_name;  // the name the certificate must carry, if not the URL's host
};

class TlsContext;

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

// A client session over a socket that the caller owns. See TlsChannel for what each step
// throws and returns.
class TlsSession {
public:
    virtual ~TlsSession() = default;
    // Runs the session over `fd`: connected, non-blocking, kept open for the session's life.
    virtual void attach(int fd) = 0;
    // One step of the handshake: done, or what to wait for before calling again.
    virtual IoResult handshake() = 0;
    // Like recv(2)/send(2) on a non-blocking socket, after the handshake; a write that wants
    // to be retried must be retried with the same bytes.
    virtual IoResult read(char* buffer, std::size_t size) = 0;
    virtual IoResult write(std::string_view bytes) = 0;
    // Bytes already read from the socket that poll(2) cannot see: read() before polling.
    virtual bool has_buffered() const = 0;
    // Whether any byte came back from the server yet (a silent peer may be no TLS server).
    virtual bool heard_from_server() const = 0;
};

// A session that verifies the server against `settings` (on the context `contexts` makes
// once) and the name `host`; `where` names the server in messages. Throws ConfigError as
// TlsChannel does; in the build without OpenSSL, InternalError (lockrun-openssl should have
// been running instead).
std::unique_ptr<TlsSession> start_tls_session(const SharedTlsContext& contexts,
                                              const TlsSettings& settings, const std::string& host,
                                              std::string where);

}  // namespace lockrun
