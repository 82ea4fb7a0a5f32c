/* The floor of a stampede, for scripts/bench: the least a single-flight guard with a shared
 * result does on one machine, and nothing more.
 *   - The first caller takes STATE.lock (flock, LOCK_EX, not waiting) and, unless a result
 *     is there already (a caller that came after the run ended), runs the command with
 *     its stdout in a pipe, copies that to its own stdout and to STATE.out, writes the exit
 *     status to STATE.status, and unlocks.
 *   - Every other caller waits for a shared hold of the same lock, which the kernel grants
 *     to all of them at once when the first one unlocks, then copies STATE.out to its stdout
 *     and exits with the status in STATE.status.
 * With STATE of the form redis:PORT:KEY the same in the Redis server on 127.0.0.1:PORT, one
 * connection a caller:
 *   - One round trip (a script) either finds the result, in the stream KEY:done, or takes
 *     the lock KEY:lock (SET NX PX), or finds it held.
 *   - The caller that took it runs the command as above, then one round trip (a script)
 *     adds the output and the status to KEY:done and deletes the lock.
 *   - Every other caller waits in one XREAD BLOCK on KEY:done from its start, which
 *     answers at once if the entry is there already and else when it is added: no
 *     subscription, no second look, no race with the end of the run.
 * No fencing counter, holder record, watcher, lease, option parsing or signal handling: a
 * row to measure lockrun's stampede against (its waiters' cost must be a connection and a
 * wait), not a tool.
 *   floor-single-flight STATE COMMAND [ARG...]     (built with cc -O2) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
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

/* Runs the command with its stdout in a pipe, copied to our stdout and into *output (of
 * *size bytes, malloc'd); returns its status as a shell gives it, or -1. */
static int run_capturing(char** command, char** output, size_t* size) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pipe_fds[1], 1);
        execvp(command[0], command);
        perror(command[0]);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t capacity = 65536;
    *output = malloc(capacity);
    *size = 0;
    for (ssize_t got; (got = read(pipe_fds[0], *output + *size, capacity - *size)) > 0;) {
        if (write(1, *output + *size, (size_t)got) != got) return -1;
        *size += (size_t)got;
        if (*size == capacity) *output = realloc(*output, capacity *= 2);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The Redis connection: a socket and what has been read from it and not yet parsed. */
struct conn {
    int fd;
    char buf[65536];
    size_t start, end;
};

static int fill(struct conn* c) {
    if (c->start == c->end) c->start = c->end = 0;
    if (c->end == sizeof c->buf) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    ssize_t got = read(c->fd, c->buf + c->end, sizeof c->buf - c->end);
    if (got <= 0) return -1;
    c->end += (size_t)got;
    return 0;
}

/* The next CRLF-ended line (without it), in c->buf; NULL when the connection failed. */
static char* line(struct conn* c) {
    for (;;) {
        char* at = memchr(c->buf + c->start, '\n', c->end - c->start);
        if (at != NULL) {
            char* text = c->buf + c->start;
            at[-1] = 0;
            c->start = (size_t)(at + 1 - c->buf);
            return text;
        }
        if (fill(c) != 0) return NULL;
    }
}

/* One reply, with every bulk string in it (nested arrays flattened) appended to words
 * (malloc'd, *count of them, at most max); a nil is an empty word. -1: an error reply or
 * a failed connection. */
static int reply_words(struct conn* c, char** words, size_t* sizes, int* count, int max) {
    char* head = line(c);
    if (head == NULL || head[0] == '-') return -1;
    long n = strtol(head + 1, NULL, 10);
    if (head[0] == '*') {
        for (long i = 0; i < n; ++i)
            if (reply_words(c, words, sizes, count, max) != 0) return -1;
        return 0;
    }
    if (head[0] != '$' || *count == max) return 0; /* integers and status: not needed */
    size_t size = n < 0 ? 0 : (size_t)n;
    char* word = malloc(size + 1);
    for (size_t have = 0; have < size;) {
        if (c->start == c->end && fill(c) != 0) return -1;
        size_t take = c->end - c->start < size - have ? c->end - c->start : size - have;
        memcpy(word + have, c->buf + c->start, take);
        c->start += take;
        have += take;
    }
    if (n >= 0 && line(c) == NULL) return -1; /* the CRLF after the bytes */
    word[size] = 0;
    words[*count] = word;
    sizes[(*count)++] = size;
    return 0;
}

/* Sends one command (argc bulk strings, their sizes in sizes). */
static int send_command(int fd, int argc, const char** argv, const size_t* sizes) {
    size_t total = 32;
    for (int i = 0; i < argc; ++i) total += sizes[i] + 32;
    char* out = malloc(total);
    int n = sprintf(out, "*%d\r\n", argc);
    for (int i = 0; i < argc; ++i) {
        n += sprintf(out + n, "$%zu\r\n", sizes[i]);
        memcpy(out + n, argv[i], sizes[i]);
        n += (int)sizes[i];
        n += sprintf(out + n, "\r\n");
    }
    int ok = write(fd, out, (size_t)n) == n ? 0 : -1;
    free(out);
    return ok;
}

static const char look_script[] =
    "local done = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1) "
    "if #done > 0 then return done end "
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', 30000) then return 'acquired' end "
    "return 'held'";
static const char finish_script[] =
    "redis.call('XADD', KEYS[2], '*', 'o', ARGV[1], 's', ARGV[2]) "
    "redis.call('PEXPIRE', KEYS[2], 300000) "
    "redis.call('DEL', KEYS[1]) "
    "return 1";

/* The entry of KEY:done as reply_words gives it (id, "o", output, "s", status): prints the
 * output, returns the status. */
static int replay_entry(char** words, size_t* sizes, int count) {
    if (count < 5) return fputs("floor-single-flight: no result\n", stderr), 69;
    if (write(1, words[2], sizes[2]) != (ssize_t)sizes[2]) return perror("stdout"), 74;
    return atoi(words[4]);
}

static int redis_single_flight(const char* spec, char** command) {
    int port = atoi(spec + 6);
    const char* key = strchr(spec + 6, ':');
    if (key == NULL) return fputs("floor-single-flight: redis:PORT:KEY\n", stderr), 64;
    ++key;
    char lock_key[512], done_key[512], token[32];
    snprintf(lock_key, sizeof lock_key, "%s:lock", key);
    snprintf(done_key, sizeof done_key, "%s:done", key);
    snprintf(token, sizeof token, "floor-%d", (int)getpid());
    static struct conn c;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c.fd < 0 || connect(c.fd, (struct sockaddr*)&address, sizeof address) != 0)
        return perror("floor-single-flight: redis"), 69;
    const char* look[] = {"EVAL", look_script, "2", lock_key, done_key, token};
    size_t look_sizes[6];
    for (int i = 0; i < 6; ++i) look_sizes[i] = strlen(look[i]);
    char* words[8];
    size_t sizes[8];
    int count = 0;
    if (send_command(c.fd, 6, look, look_sizes) != 0 ||
        reply_words(&c, words, sizes, &count, 8) != 0)
        return fputs("floor-single-flight: redis: no answer\n", stderr), 69;
    if (count == 1 && strcmp(words[0], "held") == 0) {
        const char* wait[] = {"XREAD", "BLOCK", "60000", "STREAMS", done_key, "0-0"};
        size_t wait_sizes[6];
        for (int i = 0; i < 6; ++i) wait_sizes[i] = strlen(wait[i]);
        count = 0;
        if (send_command(c.fd, 6, wait, wait_sizes) != 0 ||
            reply_words(&c, words, sizes, &count, 8) != 0)
            return fputs("floor-single-flight: redis: no answer\n", stderr), 69;
        /* XREAD: key, then the entry */
        return count < 1 ? 75 : replay_entry(words + 1, sizes + 1, count - 1);
    }
    if (!(count == 1 && strcmp(words[0], "acquired") == 0))
        return replay_entry(words, sizes, count);
    char* output;
    size_t size;
    int code = run_capturing(command, &output, &size);
    if (code < 0) return perror("floor-single-flight"), 70;
    char status[16];
    snprintf(status, sizeof status, "%d", code);
    const char* finish[] = {"EVAL", finish_script, "2", lock_key, done_key, output, status};
    size_t finish_sizes[7];
    for (int i = 0; i < 7; ++i) finish_sizes[i] = i == 5 ? size : strlen(finish[i]);
    count = 0;
    if (send_command(c.fd, 7, finish, finish_sizes) != 0 ||
        reply_words(&c, words, sizes, &count, 8) != 0)
        return fputs("floor-single-flight: redis: the result was not stored\n", stderr), 70;
    return code;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fputs("usage: floor-single-flight STATE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    if (strncmp(argv[1], "redis:", 6) == 0) return redis_single_flight(argv[1], argv + 2);
    int lock = open_beside(argv[1], ".lock", O_RDWR | O_CREAT);
    if (lock < 0) return perror(argv[1]), 69;
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        if (flock(lock, LOCK_SH) != 0) return perror("flock"), 69;
        return replay(argv[1]);
    }
    int done = open_beside(argv[1], ".status", O_RDONLY);
    if (done >= 0) return close(done), replay(argv[1]);
    int out = open_beside(argv[1], ".out", O_WRONLY | O_CREAT | O_TRUNC);
    if (out < 0) return perror("floor-single-flight"), 70;
    char* output;
    size_t size;
    int code = run_capturing(argv + 2, &output, &size);
    if (code < 0) return perror("floor-single-flight"), 70;
    if (write(out, output, size) != (ssize_t)size) return perror("write"), 74;
    int status_fd = open_beside(argv[1], ".status", O_WRONLY | O_CREAT | O_TRUNC);
    if (status_fd < 0 || dprintf(status_fd, "%d\n", code) < 0) return perror("status"), 70;
    close(status_fd);
    close(out);
    flock(lock, LOCK_UN);
    return code;
}
