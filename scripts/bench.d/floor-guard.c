/* The floor of a guard that keeps lockrun's contract (SPEC §4, §6) on the local backend, for
 * scripts/bench: floor.c plus what every lockrun run must do besides, and no more.
 *   - A fencing counter: read from STATE.fence and written back, one more, under the lock.
 *   - A holder record written into the lock file, and emptied at release.
 *   - A watcher process that leads the command's process group and kills that group if
 *     this process dies without cleaning up (SIGKILL, the OOM killer): a dead guard leaves
 *     no run behind.
 *   - The lock released explicitly (LOCK_UN) before exit.
 * No option parsing, no configuration, no cache, no signal forwarding, no output relay: a
 * row to measure lockrun against, not a tool.
 *   floor-guard STATE COMMAND [ARG...]     (STATE.lock, STATE.fence; built with cc -O2) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_beside(const char* state, const char* suffix) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s", state, suffix);
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor-guard STATE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    int lock = open_beside(argv[1], ".lock");
    if (lock < 0 || flock(lock, LOCK_EX) != 0) return perror(argv[1]), 69;
    int fence_fd = open_beside(argv[1], ".fence");
    char text[32] = {0};
    ssize_t got = fence_fd < 0 ? -1 : pread(fence_fd, text, sizeof text - 1, 0);
    if (got < 0) return perror("fence"), 69;
    int length = snprintf(text, sizeof text, "%llu", strtoull(text, NULL, 10) + 1);
    if (pwrite(fence_fd, text, (size_t)length, 0) != length) return perror("fence"), 69;
    close(fence_fd);
    char record[256];
    int record_length = snprintf(record, sizeof record, "holder\n%s\n%d\n", text, (int)getpid());
    if (pwrite(lock, record, (size_t)record_length, 0) != record_length) return perror("lock"), 69;

    pid_t parent = getpid();
    pid_t watcher = fork();
    if (watcher < 0) return perror("fork"), 70;
    if (watcher == 0) {
        setpgid(0, 0);
        sigset_t all, death;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        sigemptyset(&death);
        sigaddset(&death, SIGUSR1);
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        if (getppid() == parent) sigwaitinfo(&death, NULL);
        kill(0, SIGKILL);
        _exit(0);
    }
    setpgid(watcher, watcher);
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 70;
    if (pid == 0) {
        setpgid(0, watcher);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return perror("waitpid"), 70;
    kill(watcher, SIGKILL);
    waitpid(watcher, NULL, 0);
    if (ftruncate(lock, 0) != 0 || flock(lock, LOCK_UN) != 0) return perror("release"), 70;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
