// lockrun-watcher: the watcher of a run's process group (exec/group_watcher.hpp) as a program
// of its own, which lockrun starts with everything set up: the process group it leads, every
// signal blocked, /dev/null for its standard streams, no other descriptor, SIGUSR1 as its
// parent-death signal; all of which execve keeps. It is built without libc (a few system
// calls, written here for x86-64 and arm64): when lockrun stops it, its exit frees a few
// pages, where a fork of lockrun watching in its place took the kernel ~0.1 ms to tear down,
// on lockrun's own CPU. Not a command: run by hand (no parent-death signal, or no parent's
// pid), it exits 64 and touches nothing.
//   lockrun-watcher PARENT_PID [KILL_AFTER_MS]
// With KILL_AFTER_MS, descriptor 3 is a pipe from lockrun, which writes to it when its lease
// will have run out: 8 bytes, CLOCK_MONOTONIC nanoseconds, 0 for "no such time" (disarmed).
// When that time passes with no later one written, lockrun has not kept its lease (it was
// stopped, kill -STOP, or it hangs) and another run may take the key: the watcher stops the
// command as lockrun would have (--on-lock-lost): SIGTERM (and SIGCONT, for a stopped
// command), then SIGKILL after KILL_AFTER_MS; 0: SIGKILL at once.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/prctl.h>
#include <signal.h>

namespace {

#if defined(__x86_64__)
long system_call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
long system_call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
    return x0;
}
#else
#error \
    "lockrun-watcher has no system calls for this architecture (CMakeLists.txt builds it for x86-64 and arm64)"
#endif

[[noreturn]] void exit_with(int status) {
    for (;;) system_call(__NR_exit_group, status);
}

// The kernel's sigset_t: one bit a signal, signal N at bit N - 1.
constexpr unsigned long k_death_signal = 1UL << (SIGUSR1 - 1);
constexpr long k_kernel_sigset_bytes = 8;

// The kernel's struct timespec and struct pollfd, as the system calls take them.
struct Timespec {
    long seconds;
    long nanoseconds;
};
struct PollFd {
    int fd;
    short events;
    short revents;
};
constexpr short k_poll_in = 0x1;
constexpr long k_clock_monotonic = 1;
constexpr long k_signalfd_cloexec = 02000000;
constexpr int k_deadline_fd = 3;
constexpr long k_nanoseconds_per_second = 1'000'000'000;

unsigned long now_ns() {
    Timespec now{};
    system_call(__NR_clock_gettime, k_clock_monotonic, reinterpret_cast<long>(&now));
    return static_cast<unsigned long>(now.seconds) * k_nanoseconds_per_second +
           static_cast<unsigned long>(now.nanoseconds);
}

void sleep_ms(long ms) {
    Timespec pause{ms / 1000, (ms % 1000) * 1'000'000};
    system_call(__NR_ppoll, 0, 0, reinterpret_cast<long>(&pause), 0, k_kernel_sigset_bytes);
}

// The lease ran out and lockrun did not act (it is stopped, or hangs): the command is
// stopped as --on-lock-lost says, then the whole group, this process last, is killed.
[[noreturn]] void stop_the_run(long kill_after_ms) {
    if (kill_after_ms > 0) {
        system_call(__NR_kill, 0, SIGTERM);  // blocked here, as every signal
        system_call(__NR_kill, 0, SIGCONT);
        sleep_ms(kill_after_ms);
    }
    system_call(__NR_kill, 0, SIGKILL);
    exit_with(0);
}

long number_of(const char* text) {
    if (text == nullptr || *text == '\0') return -1;
    long value = 0;
    for (; *text != '\0'; ++text) {
        if (*text < '0' || *text > '9' || value > 100000000) return -1;
        value = value * 10 + (*text - '0');
    }
    return value;
}

// Until the parent dies, or the lease's end written on k_deadline_fd passes: the parent's
// death signal read from a signalfd, the pipe and the clock waited for together.
void watch_lease(long parent, long kill_after_ms) {
    const long death = system_call(__NR_signalfd4, -1, reinterpret_cast<long>(&k_death_signal),
                                   k_kernel_sigset_bytes, k_signalfd_cloexec);
    if (death < 0) return;  // watched as without a lease, below
    unsigned long deadline = 0;
    while (system_call(__NR_getppid) == parent) {
        Timespec left{};
        if (deadline != 0) {
            const unsigned long now = now_ns();
            if (now >= deadline) stop_the_run(kill_after_ms);
            left = {static_cast<long>((deadline - now) / k_nanoseconds_per_second),
                    static_cast<long>((deadline - now) % k_nanoseconds_per_second)};
        }
        PollFd fds[2] = {{k_deadline_fd, k_poll_in, 0}, {static_cast<int>(death), k_poll_in, 0}};
        system_call(__NR_ppoll, reinterpret_cast<long>(fds), 2,
                    deadline != 0 ? reinterpret_cast<long>(&left) : 0, 0, k_kernel_sigset_bytes);
        if (fds[0].revents != 0) {
            unsigned long messages[8];
            const long got = system_call(__NR_read, k_deadline_fd, reinterpret_cast<long>(messages),
                                         sizeof messages);
            // 0: lockrun's end closed, it is gone; an error but EAGAIN: no pipe to watch.
            if (got == 0 || (got < 0 && got != -EAGAIN)) return;
            if (got >= 8) deadline = messages[got / 8 - 1];  // the latest it wrote
        }
        if (fds[1].revents != 0) {
            unsigned char information[128];
            system_call(__NR_read, death, reinterpret_cast<long>(information), sizeof information);
        }
    }
}

}  // namespace

extern "C" [[noreturn]] void watcher_main(long* stack) {
    const long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    const long parent = argc == 2 || argc == 3 ? number_of(argv[1]) : -1;
    const long kill_after_ms = argc == 3 ? number_of(argv[2]) : -1;
    int death_signal = 0;
    system_call(__NR_prctl, PR_GET_PDEATHSIG, reinterpret_cast<long>(&death_signal));
    if (parent <= 1 || death_signal != SIGUSR1 || (argc == 3 && kill_after_ms < 0)) {
        exit_with(64);
    }
    if (argc == 3) watch_lease(parent, kill_after_ms);
    // As in exec/group_watcher.cpp: the parent's death is checked, not inferred from the
    // signal, which the command may send its own group.
    while (system_call(__NR_getppid) == parent) {
        system_call(__NR_rt_sigtimedwait, reinterpret_cast<long>(&k_death_signal), 0, 0,
                    k_kernel_sigset_bytes);
    }
    system_call(__NR_kill, 0, SIGKILL);  // the whole group, this process last
    exit_with(0);
}

// The entry point, without libc's: the kernel leaves argc and argv on the stack.
#if defined(__x86_64__)
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call watcher_main\n");
#elif defined(__aarch64__)
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl watcher_main\n");
#endif
