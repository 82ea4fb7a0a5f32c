#include "backend/redis/name_lookup.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "backend/wait_for_fd.hpp"
#include "util/unique_fd.hpp"
#include "util/write_all.hpp"

namespace lockrun {
namespace {

// The lookup child; whatever happens to the parent's wait, the child is killed and reaped
// when this goes out of scope (killing one that has already exited does nothing).
class LookupChild {
public:
    explicit LookupChild(pid_t pid) : pid_(pid) {}
    LookupChild(const LookupChild&) = delete;
    LookupChild& operator=(const LookupChild&) = delete;
    ~LookupChild() {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }

private:
    pid_t pid_;
};

addrinfo tcp_hints(int flags) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    return hints;
}

std::vector<ResolvedAddress> copy_addresses(const addrinfo* list) {
    std::vector<ResolvedAddress> addresses;
    for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
        if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
        ResolvedAddress address;
        address.family = a->ai_family;
        address.socktype = a->ai_socktype;
        address.protocol = a->ai_protocol;
        address.length = a->ai_addrlen;
        std::memcpy(&address.address, a->ai_addr, a->ai_addrlen);
        addresses.push_back(address);
    }
    return addresses;
}

std::string gai_error_text(int rc, int system_error) {
    if (rc == EAI_SYSTEM) return std::strerror(system_error);
    return ::gai_strerror(rc);
}

// The child's answer on the pipe, in host byte order (both ends are this process's code):
// int32 getaddrinfo rc, int32 errno (for EAI_SYSTEM), then per address int32 family,
// socktype, protocol, uint32 length and the sockaddr bytes; the end of the pipe ends it.
void put_int(std::string& out, std::int32_t value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

bool take_int(std::string_view& in, std::int32_t& value) {
    if (in.size() < sizeof value) return false;
    std::memcpy(&value, in.data(), sizeof value);
    in.remove_prefix(sizeof value);
    return true;
}

std::string encode_answer(int rc, int system_error, const std::vector<ResolvedAddress>& found) {
    std::string out;
    put_int(out, rc);
    put_int(out, system_error);
    for (const ResolvedAddress& a : found) {
        put_int(out, a.family);
        put_int(out, a.socktype);
        put_int(out, a.protocol);
        put_int(out, static_cast<std::int32_t>(a.length));
        out.append(reinterpret_cast<const char*>(&a.address), a.length);
    }
    return out;
}

NameLookup decode_answer(std::string_view in) {
    NameLookup lookup;
    std::int32_t rc = 0;
    std::int32_t system_error = 0;
    if (!take_int(in, rc) || !take_int(in, system_error)) {
        lookup.error = "the lookup process ended without an answer";
        return lookup;
    }
    if (rc != 0) {
        lookup.error = gai_error_text(rc, system_error);
        return lookup;
    }
    while (!in.empty()) {
        ResolvedAddress a;
        std::int32_t length = 0;
        if (!take_int(in, a.family) || !take_int(in, a.socktype) || !take_int(in, a.protocol) ||
            !take_int(in, length) || length < 0 ||
            static_cast<std::size_t>(length) > sizeof a.address ||
            in.size() < static_cast<std::size_t>(length)) {
            lookup.addresses.clear();
            lookup.error = "the lookup process gave a damaged answer";
            return lookup;
        }
        a.length = static_cast<socklen_t>(length);
        std::memcpy(&a.address, in.data(), a.length);
        in.remove_prefix(a.length);
        lookup.addresses.push_back(a);
    }
    if (lookup.addresses.empty()) {
        lookup.error = "no address";
        return lookup;
    }
    lookup.outcome = NameLookup::Outcome::resolved;
    return lookup;
}

// The child: looks the name up, writes the answer, and exits without running the parent's
// atexit handlers or destructors. It dies with the parent (PDEATHSIG), also when the parent
// died before prctl() took effect (then getppid() is no longer the parent).
[[noreturn]] void run_lookup_child(int answer_fd, pid_t parent, const std::string& host,
                                   const std::string& port) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    addrinfo hints = tcp_hints(0);
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    int system_error = errno;
    std::vector<ResolvedAddress> addresses;
    if (rc == 0) {
        addresses = copy_addresses(found);
        ::freeaddrinfo(found);
    }
    ::_exit(write_all(answer_fd, encode_answer(rc, system_error, addresses)) ? 0 : 1);
}

// A numeric address needs no resolver: nullopt when `host` is a name.
std::optional<NameLookup> numeric_address(const std::string& host, const std::string& port) {
    addrinfo hints = tcp_hints(AI_NUMERICHOST | AI_NUMERICSERV);
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return std::nullopt;
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
    NameLookup lookup;
    lookup.addresses = copy_addresses(found);
    if (lookup.addresses.empty()) return std::nullopt;
    lookup.outcome = NameLookup::Outcome::resolved;
    return lookup;
}

NameLookup failed(std::string why) {
    NameLookup lookup;
    lookup.error = std::move(why);
    return lookup;
}

}  // namespace

NameLookup look_up_name(const std::string& host, std::uint16_t port, Deadline deadline,
                        InterruptSource* interrupt) {
    const std::string service = std::to_string(port);
    if (auto lookup = numeric_address(host, service)) return std::move(*lookup);
    if (deadline.passed()) return NameLookup{NameLookup::Outcome::timed_out, {}, {}};

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return failed(std::string("cannot start the lookup: pipe: ") + std::strerror(errno));
    }
    UniqueFd answer(pipe_fds[0]);
    UniqueFd answer_write_end(pipe_fds[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        return failed(std::string("cannot start the lookup: fork: ") + std::strerror(errno));
    }
    if (pid == 0) run_lookup_child(pipe_fds[1], parent, host, service);
    LookupChild child(pid);
    // Only the child writes: the end of the pipe is then the end of its answer.
    answer_write_end.reset();

    std::string received;
    for (;;) {
        FdWait waited = wait_for_fd(answer.get(), POLLIN, deadline, interrupt);
        if (waited == FdWait::failed) return failed(std::string("poll: ") + std::strerror(errno));
        if (waited == FdWait::timed_out) return NameLookup{NameLookup::Outcome::timed_out, {}, {}};
        char buffer[4096];
        ssize_t got = ::read(answer.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return failed(std::string("read: ") + std::strerror(errno));
        if (got == 0) return decode_answer(received);
        received.append(buffer, static_cast<std::size_t>(got));
    }
}

}  // namespace lockrun
