#include "exec/spawn_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

extern char** environ;

namespace lockrun {
namespace {

// The child's stack: it makes a few system calls and no deeper calls than these functions.
constexpr std::size_t k_child_stack_bytes = 64 * 1024;
// The kernel's sigset_t, which rt_sigprocmask and rt_sigaction take: one bit per signal.
constexpr long k_kernel_sigset_bytes = sizeof(std::uint64_t);
// Where a descriptor loop ends when close_range(2) is missing (kernels before 5.9).
constexpr int k_descriptor_sweep_end = 1024;

// All the child reads, made before the clone (it allocates nothing), and the one thing it
// writes back.
struct ChildWork {
    const SpawnPlan& plan;
    std::vector<char*> argv;  // null-terminated, pointing into plan's strings
    std::vector<char*> environment;
    SpawnFailure failure;  // why the child executed nothing
};

std::vector<char*> pointers_to(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
    pointers.push_back(nullptr);
    return pointers;
}

// The child calls the kernel through syscall(2), not through libc's wrappers: a sanitizer's
// interceptor (ASan's sigaction) must not run in a process that shares our memory. The errno
// that syscall(2) sets on failure is this thread's, ours: we are suspended meanwhile, and do
// not read it afterwards.
template <typename... Args>
long kernel(long number, Args... args) {
    return ::syscall(number, static_cast<long>(args)...);
}

long address(const void* pointer) {
    return reinterpret_cast<long>(pointer);
}

// `to` becomes a copy of `from` that execve keeps; when they are the same descriptor, it
// is only kept (its close-on-exec flag cleared in the child's own descriptor table).
bool copy_descriptor(int from, int to) {
    if (from == to) return kernel(SYS_fcntl, to, F_SETFD, 0) == 0;
    return kernel(SYS_dup3, from, to, 0) == to;
}

// The lowest `to` of plan.dups at or above `from`; ~0U when there is none.
unsigned next_dup_target(const SpawnPlan& plan, unsigned from) {
    unsigned next = ~0U;
    for (const auto& [source, target] : plan.dups) {
        const auto to = static_cast<unsigned>(target);
        if (to >= from && to < next) next = to;
    }
    return next;
}

// Every descriptor above 2 closed, but the copies that plan.dups made: close_range(2) over
// the gaps between them, or one close(2) a descriptor where the kernel has no close_range
// (before 5.9).
void close_all_but_dups(const SpawnPlan& plan) {
    for (unsigned from = 3;;) {
        const unsigned kept = next_dup_target(plan, from);
        if (kept > from && kernel(SYS_close_range, from, kept - 1, 0) != 0) {
            const unsigned end = std::min(kept, static_cast<unsigned>(k_descriptor_sweep_end));
            for (unsigned fd = from; fd < end; ++fd) kernel(SYS_close, fd);
        }
        if (kept == ~0U) return;
        from = kept + 1;
    }
}

}  // namespace

bool apply_plan_steps(const SpawnPlan& plan, SpawnFailure& failure) {
    auto failed = [&failure](const char* step) {
        failure = {errno, step};
        return false;
    };
    if (plan.new_session && kernel(SYS_setsid) < 0) return failed("setsid");
    if (plan.process_group >= 0 && kernel(SYS_setpgid, 0, plan.process_group) != 0) {
        return failed("setpgid");
    }
    // The kernel's struct sigaction, all zero: SIG_DFL (0), no flags, an empty mask, in every
    // architecture's layout of it.
    const long default_action[4] = {};
    for (int signal_number : plan.default_signals) {
        if (kernel(SYS_rt_sigaction, signal_number, address(default_action), 0,
                   k_kernel_sigset_bytes) != 0) {
            return failed("sigaction");
        }
    }
    if (plan.null_standard_streams) {
        int null_fd = static_cast<int>(
            kernel(SYS_openat, AT_FDCWD, address("/dev/null"), O_RDWR | O_CLOEXEC, 0));
        if (null_fd < 0) return failed("open /dev/null");
        for (int standard_fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
            if (!copy_descriptor(null_fd, standard_fd)) return failed("dup3");
        }
    }
    for (const auto& [from, to] : plan.dups) {
        if (!copy_descriptor(from, to)) return failed("dup3");
    }
    if (plan.close_other_descriptors) close_all_but_dups(plan);
    if (plan.parent_death_signal != 0 &&
        kernel(SYS_prctl, PR_SET_PDEATHSIG, plan.parent_death_signal) != 0) {
        return failed("prctl");
    }
    if (kernel(SYS_rt_sigprocmask, SIG_SETMASK, address(&plan.mask), 0, k_kernel_sigset_bytes) !=
        0) {
        return failed("sigprocmask");
    }
    return true;
}

namespace {

// execve of each program in turn, returning (with the errno to report) only if none ran.
// The rules are execvp(3)'s: a program that is not there, or may not be searched for, is
// passed over; EACCES is remembered as the more telling error; any other error ends the
// search.
int execute_first(const ChildWork& work) {
    bool denied = false;
    int error = ENOENT;
    for (const std::string& program : work.plan.programs) {
        kernel(SYS_execve, address(program.c_str()), address(work.argv.data()),
               address(work.environment.data()));
        error = errno;
        switch (error) {
            case EACCES:
                denied = true;
                break;
            case ENOENT:
            case ESTALE:
            case ENOTDIR:
            case ENODEV:
            case ETIMEDOUT:
                break;
            default:
                return error;
        }
    }
    return denied ? EACCES : error;
}

// The child's whole life. Its return ends it (clone(2) calls exit with the value), and so
// resumes the parent, which then reads `failure`.
int run_child(void* raw) {
    ChildWork& work = *static_cast<ChildWork*>(raw);
    if (apply_plan_steps(work.plan, work.failure)) work.failure = {execute_first(work), nullptr};
    return 127;
}

}  // namespace

std::variant<pid_t, SpawnFailure> spawn_process(const SpawnPlan& plan) {
    ChildWork work{plan, pointers_to(plan.argv), pointers_to(plan.environment), {}};
    auto stack = std::make_unique_for_overwrite<std::byte[]>(k_child_stack_bytes);
    // Blocked from the child's first instruction: a handler of ours must never run in a
    // process that shares our memory. The child sets its own mask last. (Through the kernel:
    // libc's sigprocmask leaves its own two signals out, as its posix_spawn does not.)
    const std::uint64_t every_signal = ~std::uint64_t{0};
    std::uint64_t ours = 0;
    kernel(SYS_rt_sigprocmask, SIG_SETMASK, address(&every_signal), address(&ours),
           k_kernel_sigset_bytes);
    // CLONE_VFORK: we resume once the child has called execve, or has ended.
    pid_t pid = ::clone(run_child, stack.get() + k_child_stack_bytes,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, &work);
    const int clone_error = errno;
    kernel(SYS_rt_sigprocmask, SIG_SETMASK, address(&ours), 0, k_kernel_sigset_bytes);
    if (pid < 0) return SpawnFailure{clone_error, "clone"};
    if (work.failure.error != 0) {
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return work.failure;
    }
    return pid;
}

std::vector<std::string> environment_with(
    const std::vector<std::pair<std::string, std::string>>& set,
    const std::vector<std::string>& removed) {
    auto names = [](std::string_view variable, std::string_view name) {
        return variable.starts_with(name) && variable.size() > name.size() &&
               variable[name.size()] == '=';
    };
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string_view variable(*entry);
        bool dropped = false;
        for (const auto& [name, value] : set) dropped = dropped || names(variable, name);
        for (const std::string& name : removed) dropped = dropped || names(variable, name);
        if (!dropped) environment.emplace_back(variable);
    }
    for (const auto& [name, value] : set) environment.push_back(name + "=" + value);
    return environment;
}

std::vector<std::string> program_candidates(const std::string& name, const char* path) {
    if (name.empty()) return {};  // nothing to find: ENOENT, as execvp(3) says
    if (name.find('/') != std::string::npos) return {name};
    std::vector<std::string> candidates;
    std::string_view directories = path != nullptr ? path : "/bin:/usr/bin";
    while (true) {
        const std::size_t end = directories.find(':');
        const std::string_view directory = directories.substr(0, end);
        // As glibc: a directory too long to be one is passed over.
        if (directory.size() < PATH_MAX) {
            candidates.push_back(directory.empty() ? name : std::string(directory) + "/" + name);
        }
        if (end == std::string_view::npos) break;
        directories.remove_prefix(end + 1);
    }
    return candidates;
}

}  // namespace lockrun
