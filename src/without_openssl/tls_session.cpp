// The lockrun without OpenSSL: run_main runs lockrun-openssl in its place for every rediss://
// URL before any connection is made, so a session asked for here is a bug.
#include "backend/redis/tls_session.hpp"

#include "core/errors.hpp"

namespace lockrun {

std::unique_ptr<TlsSession> start_tls_session(const SharedTlsContext&, const TlsSettings&,
                                              const std::string&, std::string where) {
    throw InternalError("this lockrun carries no TLS, and lockrun-openssl was not run for " +
                        where);
}

}  // namespace lockrun
