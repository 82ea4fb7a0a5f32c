// For the tests of what lockrun reads at start (tests/cli/startup.bats), loaded with
// LD_PRELOAD: every path opened with fopen(3), the way OpenSSL opens its configuration, is
// appended as a line to the file named by LOCKRUN_TEST_OPEN_LOG.
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

void log_path(const char* path) {
    const char* log = std::getenv("LOCKRUN_TEST_OPEN_LOG");
    if (log == nullptr || path == nullptr) return;
    int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    // One write per line, so that lines of several processes do not interleave.
    char line[4096];
    int length = std::snprintf(line, sizeof line, "%s\n", path);
    if (length > 0) (void)!::write(fd, line, static_cast<std::size_t>(length));
    ::close(fd);
}

template <typename Function>
Function real(const char* name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" FILE* fopen(const char* path, const char* mode) {
    log_path(path);
    static const auto real_fopen = real<FILE* (*)(const char*, const char*)>("fopen");
    return real_fopen(path, mode);
}

extern "C" FILE* fopen64(const char* path, const char* mode) {
    log_path(path);
    static const auto real_fopen64 = real<FILE* (*)(const char*, const char*)>("fopen64");
    return real_fopen64(path, mode);
}
