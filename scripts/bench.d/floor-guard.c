/* The floor of a guard that keeps lockrun's contract (SPEC §4, §6) on the local backend, for
 * scripts/bench: floor.c plus what every lockrun run must do besides, and no more.
 *   - A fencing counter: read from STATE.fence and written back, one more, under the lock.
 *   - A holder record written into the lock file, and emptied at release.
 *   - A watcher process that leads the command's process group and kills that group if
 *     this process dies without cleaning up (SIGKILL, the OOM killer): a dead guard leaves
 *     no run behind.
 *   - The lock released explicitly (LOCK_UN) before exit.
 * With STATE of the form redis:PORT:KEY the lock is in the Redis server on 127.0.0.1:PORT
 * instead, as lockrun's Redis backend keeps it: one connection, one round trip to take the
 * lock with its fence and holder record (a script: INCR, SET NX PX), one to release it (a
 * script: compare the token and delete). The watcher is the same.
 * No option parsing, no configuration, no cache, no signal forwarding, no output relay, no
 * lease renewal (the command is short): a row to measure lockrun against, not a tool.
 *   floor-guard STATE COMMAND [ARG...]     (STATE.lock, STATE.fence; built with cc -O2) */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_beside(const char* state, const char* suffix) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s", state, suffix);
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

/* One RESP command (an array of bulk strings) sent, one reply read: -1 unless the reply is
 * an integer (its value) or a bulk string ("$": 1), and 0 for a nil. */
static long long round_trip(int fd, int argc, const char** argv) {
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "*%d\r\n", argc);
    for (int i = 0; i < argc; ++i)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (write(fd, buf, (size_t)n) != n) return -1;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    if (got <= 0) return -1;
    buf[got] = 0;
    if (buf[0] == ':') return strtoll(buf + 1, NULL, 10);
    if (buf[0] == '$') return buf[1] == '-' ? 0 : 1;
    return -1;
}

static const char acquire_script[] =
    "local f = redis.call('INCR', KEYS[2]) "
    "if redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. f, 'NX', 'PX', ARGV[2]) then return f end "
    "return false";
static const char release_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

/* redis:PORT:KEY: the lock taken in Redis; returns the connection, or -1. */
static int redis_acquire(const char* spec, char* fence_key, size_t size, char* token) {
    int port = atoi(spec + 6);
    const char* key = strchr(spec + 6, ':');
    if (key == NULL) return -1;
    ++key;
    snprintf(fence_key, size, "%s:fence", key);
    snprintf(token, 32, "floor-%d", (int)getpid());
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof address) != 0) return -1;
    const char* acquire[] = {"EVAL", acquire_script, "2", key, fence_key, token, "30000"};
    return round_trip(fd, 7, acquire) > 0 ? fd : -1;
}

static int redis_release(int fd, const char* spec, const char* token) {
    const char* key = strchr(spec + 6, ':') + 1;
    const char* release[] = {"EVAL", release_script, "1", key, token};
    return round_trip(fd, 5, release) == 1 ? 0 : -1;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor-guard STATE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    int redis = -1;
    char fence_key[512], token[32];
    if (strncmp(argv[1], "redis:", 6) == 0) {
        redis = redis_acquire(argv[1], fence_key, sizeof fence_key, token);
        if (redis < 0) return fputs("floor-guard: redis: cannot take the lock\n", stderr), 69;
    }
    int lock = redis >= 0 ? -1 : open_beside(argv[1], ".lock");
    if (redis < 0) {
        if (lock < 0 || flock(lock, LOCK_EX) != 0) return perror(argv[1]), 69;
        int fence_fd = open_beside(argv[1], ".fence");
        char text[32] = {0};
        ssize_t got = fence_fd < 0 ? -1 : pread(fence_fd, text, sizeof text - 1, 0);
        if (got < 0) return perror("fence"), 69;
        int length = snprintf(text, sizeof text, "%llu", strtoull(text, NULL, 10) + 1);
        if (pwrite(fence_fd, text, (size_t)length, 0) != length) return perror("fence"), 69;
        close(fence_fd);
        char record[256];
        int record_length =
            snprintf(record, sizeof record, "holder\n%s\n%d\n", text, (int)getpid());
        if (pwrite(lock, record, (size_t)record_length, 0) != record_length)
            return perror("lock"), 69;
    }

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
    if (redis >= 0 ? redis_release(redis, argv[1], token) != 0
                   : ftruncate(lock, 0) != 0 || flock(lock, LOCK_UN) != 0)
        return perror("release"), 70;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
