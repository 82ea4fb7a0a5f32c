/* The floor of a stampede, for scripts/bench: the least a single-flight guard with a shared
 * result does on one machine, and nothing more.
 *   - The first caller takes STATE.lock (flock, LOCK_EX, not waiting) and, unless a result
 *     is there already (a caller that came after the run ended), runs the command with
 *     its stdout in a pipe, copies that to its own stdout and to STATE.out, writes the exit
 *     status to STATE.status, and unlocks.
 *   - Every other caller waits for a shared hold of the same lock, which the kernel grants
 *     to all of them at once when the first one unlocks, then copies STATE.out to its stdout
 *     and exits with the status in STATE.status.
 * No fencing counter, holder record, watcher, lease, option parsing or signal handling: a
 * row to measure lockrun's stampede against (its waiters' cost must be a connection and a
 * wait), not a tool.
 *   floor-single-flight STATE COMMAND [ARG...]     (built with cc -O2) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_beside(const char* state, const char* suffix, int flags) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s", state, suffix);
    return open(path, flags | O_CLOEXEC, 0600);
}

static int replay(const char* state) {
    int out = open_beside(state, ".out", O_RDONLY);
    int status_fd = open_beside(state, ".status", O_RDONLY);
    struct stat st;
    char text[16] = {0};
    if (out < 0 || status_fd < 0 || fstat(out, &st) != 0 || read(status_fd, text, 15) <= 0)
        return perror("floor-single-flight: no result"), 69;
    for (off_t at = 0; at < st.st_size;)
        if (sendfile(1, out, &at, (size_t)(st.st_size - at)) <= 0) return perror("stdout"), 74;
    return atoi(text);
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor-single-flight STATE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    int lock = open_beside(argv[1], ".lock", O_RDWR | O_CREAT);
    if (lock < 0) return perror(argv[1]), 69;
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (flock(lock, LOCK_SH) != 0) return perror("flock"), 69;
        return replay(argv[1]);
    }
    int done = open_beside(argv[1], ".status", O_RDONLY);
    if (done >= 0) return close(done), replay(argv[1]);
    int out = open_beside(argv[1], ".out", O_WRONLY | O_CREAT | O_TRUNC);
    int pipe_fds[2];
    if (out < 0 || pipe2(pipe_fds, O_CLOEXEC) != 0) return perror("floor-single-flight"), 70;
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 70;
    if (pid == 0) {
        dup2(pipe_fds[1], 1);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    close(pipe_fds[1]);
    char buf[65536];
    for (ssize_t got; (got = read(pipe_fds[0], buf, sizeof buf)) > 0;)
        if (write(1, buf, (size_t)got) != got || write(out, buf, (size_t)got) != got)
            return perror("write"), 74;
    int status;
    if (waitpid(pid, &status, 0) < 0) return perror("waitpid"), 70;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int status_fd = open_beside(argv[1], ".status", O_WRONLY | O_CREAT | O_TRUNC);
    if (status_fd < 0 || dprintf(status_fd, "%d\n", code) < 0) return perror("status"), 70;
    close(status_fd);
    close(out);
    flock(lock, LOCK_UN);
    return code;
}
