// lockrun-watcher: the watcher of a run's process group (exec/group_watcher.hpp) as a program
// of its own, which lockrun starts with everything set up: the process group it leads, every
// signal blocked, /dev/null for its standard streams, no other descriptor, SIGUSR1 as its
// parent-death signal; all of which execve keeps. It is built without libc (a few system
// calls, written here for x86-64 and arm64): when lockrun stops it, its exit frees a few
// pages, where a fork of lockrun watching in its place took the kernel ~0.1 ms to tear down,
// on lockrun's own CPU. Not a command: run by hand (no parent-death signal, or no parent's
// pid), it exits 64 and touches nothing.
//   lockrun-watcher PARENT_PID
#include <asm/unistd.h>
#include <linux/prctl.h>
#include <signal.h>

namespace {

#if defined(__x86_64__)
long system_call(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
    long result;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
long system_call(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
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

long number_of(const char* text) {
    if (text == nullptr || *text == '\0') return -1;
    long value = 0;
    for (; *text != '\0'; ++text) {
        if (*text < '0' || *text > '9' || value > 100000000) return -1;
        value = value * 10 + (*text - '0');
    }
    return value;
}

}  // namespace

extern "C" [[noreturn]] void watcher_main(long* stack) {
    const long argc = stack[0];
    char** argv = reinterpret_cast<char**>(stack + 1);
    const long parent = argc == 2 ? number_of(argv[1]) : -1;
    int death_signal = 0;
    system_call(__NR_prctl, PR_GET_PDEATHSIG, reinterpret_cast<long>(&death_signal));
    if (parent <= 1 || death_signal != SIGUSR1) exit_with(64);
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
