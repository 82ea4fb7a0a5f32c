#include "backend/local/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/errors.hpp"

namespace lockrun {

std::string default_state_dir() {
    // Never from the session ($XDG_RUNTIME_DIR exists for a login but not for cron, and
    // differs between them): one user's runs must all lock the same files (SPEC §6).
    return "/tmp/lockrun-" + std::to_string(::getuid());
}

namespace {

// "link/" and "link/." would make lstat() follow the link: the name itself is looked at. A
// path ending in ".." names a directory the checks cannot see as the user wrote it (the
// parent of a link's target, say): refused.
std::string own_name(const std::string& given_path) {
    std::string path = given_path;
    for (;;) {
        if (path.size() > 1 && path.back() == '/') {
            path.pop_back();
        } else if (path.size() > 2 && path.ends_with("/.")) {
            path.resize(path.size() - 2);
        } else {
            break;
        }
    }
    if (path == ".." || path.ends_with("/..")) {
        throw ConfigError("the state dir " + given_path +
                          " ends in '..'; give --state-dir the directory's own name");
    }
    return path;
}

// What lstat(2) says of the directory, once it is known to be a real directory of ours that
// nobody else can write into.
struct stat checked_state_dir(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        throw ConfigError("cannot use the state dir " + path + ": " + std::strerror(errno));
    }
    if (S_ISLNK(info.st_mode)) {
        throw ConfigError("the state dir " + path +
                          " is a symlink; remove it or give --state-dir a real directory");
    }
    if (!S_ISDIR(info.st_mode)) {
        throw ConfigError("the state dir " + path + " is not a directory (check --state-dir)");
    }
    if (info.st_uid != ::geteuid()) {
        throw ConfigError("the state dir " + path + " belongs to uid " +
                          std::to_string(info.st_uid) + ", not to you (uid " +
                          std::to_string(::geteuid()) + "); remove it or use --state-dir");
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw ConfigError("the state dir " + path + " is writable by others (mode " + mode +
                          "); run: chmod 700 " + path);
    }
    // Made under a umask such as 0277 by lockrun 0.1, or by hand: every run would fail to
    // create its lock file there (or, as root, succeed where the same user's cron job fails).
    if ((info.st_mode & S_IRWXU) != S_IRWXU) {
        throw ConfigError("the state dir " + path + " is not readable, writable and searchable " +
                          "by you (mode " + mode + "); run: chmod 700 " + path);
    }
    return info;
}

}  // namespace

UniqueFd open_state_dir(const std::string& given_path) {
    if (given_path.empty()) throw ConfigError("--state-dir is empty");
    const std::string path = own_name(given_path);
    const bool created = ::mkdir(path.c_str(), 0700) == 0;
    if (!created && errno != EEXIST) {
        throw ConfigError("cannot create the state dir " + path + ": " + std::strerror(errno) +
                          " (check --state-dir)");
    }
    // 0700 whatever the umask (0277 would leave it unwritable: SPEC §6 says 0700).
    if (created) (void)::chmod(path.c_str(), 0700);
    const struct stat checked = checked_state_dir(path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        throw ConfigError("cannot open the state dir " + path + ": " + std::strerror(errno));
    }
    // The checks looked at a path; make sure the directory we opened is the one that was
    // checked, not one swapped in between.
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0 || opened.st_ino != checked.st_ino ||
        opened.st_dev != checked.st_dev) {
        throw ConfigError("the state dir " + path + " changed while it was being opened");
    }
    return fd;
}

}  // namespace lockrun
