// For the name-lookup tests only (tests/cli/redis/name_lookup.bats), loaded with
// LD_PRELOAD: a getaddrinfo that never returns, as with a resolver that never answers,
// for every lookup of a name. A numeric lookup (AI_NUMERICHOST) goes to the real one, so
// that lockrun's in-process fast path for addresses can be told apart from the lookup it
// must be able to abandon. Hermetic: no network, no namespace, no change to /etc.
#include <dlfcn.h>
#include <netdb.h>
#include <unistd.h>

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** result) {
    if (hints == nullptr || (hints->ai_flags & AI_NUMERICHOST) == 0) {
        for (;;) ::pause();
    }
    using Real = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
    static const Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "getaddrinfo"));
    return real(node, service, hints, result);
}
