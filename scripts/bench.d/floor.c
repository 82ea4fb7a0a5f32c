/* The floor of lockrun's benchmark (scripts/bench): the least a local lock-and-run tool must
 * do, and no more. One exec of this program, one flock(2) on a lock file, one fork and one
 * exec of the command, one waitpid; it exits with the command's status (128+N if killed by
 * signal N). No option parsing, no cache, no lease, no signal forwarding: a row to compare
 * flock(1) and lockrun with, not a tool.
 *   floor LOCKFILE COMMAND [ARG...]        (built by scripts/bench with cc -O2) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor LOCKFILE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    int fd = open(argv[1], O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        perror(argv[1]);
        return 69;
    }
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 70;
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return perror("waitpid"), 70;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
