// For the tests of what a background refresh logs (tests/cli/stale.bats), loaded with
// LD_PRELOAD: every syslog(3) message is appended as a line to the file named by
// LOCKRUN_TEST_SYSLOG, with its priority, instead of going to /dev/log (which a test
// machine may not have, and which other programs share).
#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace {

void log_line(int priority, const char* format, va_list arguments) {
    const char* log = std::getenv("LOCKRUN_TEST_SYSLOG");
    if (log == nullptr) return;
    int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char line[8192];
    int length = std::snprintf(line, sizeof line, "<%d> ", priority);
    if (length > 0 && length < static_cast<int>(sizeof line)) {
        length += std::vsnprintf(line + length, sizeof line - static_cast<std::size_t>(length),
                                 format, arguments);
    }
    if (length > static_cast<int>(sizeof line) - 2) length = static_cast<int>(sizeof line) - 2;
    if (length > 0) {
        line[length++] = '\n';
        (void)!::write(fd, line, static_cast<std::size_t>(length));  // one write a line
    }
    ::close(fd);
}

}  // namespace

extern "C" {

void openlog(const char*, int, int) {}
void closelog() {}

void syslog(int priority, const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    log_line(priority, format, arguments);
    va_end(arguments);
}

void __syslog_chk(int priority, int, const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    log_line(priority, format, arguments);
    va_end(arguments);
}

}  // extern "C"
