#include "cli/key_inputs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "util/sha256_stream.hpp"
#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

// The version of what is hashed: changing it changes every key that has inputs.
constexpr std::string_view k_format = "lockrun key inputs 1";
constexpr std::size_t k_chunk = 256 * 1024;
constexpr std::size_t k_digits = 32;  // of the hex digest, in the key

[[noreturn]] void cannot_read(const std::string& shown, int error) {
    throw UsageError("--key-file " + shown + ": " + std::strerror(error));
}

// One field: its bytes and a NUL, which no file name, link target or variable contains.
void field(Sha256Stream& out, std::string_view bytes) {
    out.update(bytes);
    out.update(std::string_view("\0", 1));
}

// A file's content as its own digest, so that the outer hash never depends on a length
// read before the content (a file that grows while it is read still hashes as what was read).
std::string content_digest(int fd, const std::string& shown) {
    Sha256Stream content;
    std::vector<char> buffer(k_chunk);
    for (;;) {
        ssize_t got = ::read(fd, buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) cannot_read(shown, errno);
        if (got == 0) return content.hex_digest();
        content.update(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    }
}

// A symlink's target text; nullopt when it is gone.
std::optional<std::string> link_target(int directory, const std::string& name,
                                       const std::string& shown) {
    std::string target(PATH_MAX, '\0');
    ssize_t length = ::readlinkat(directory, name.c_str(), target.data(), target.size());
    if (length < 0 && errno == ENOENT) return std::nullopt;
    if (length < 0) cannot_read(shown, errno);
    target.resize(static_cast<std::size_t>(length));
    return target;
}

void hash_tree(Sha256Stream& out, UniqueFd fd, const std::string& shown);

struct CloseDirectory {
    void operator()(DIR* directory) const { ::closedir(directory); }
};

void hash_directory(Sha256Stream& out, UniqueFd fd, const std::string& shown) {
    std::unique_ptr<DIR, CloseDirectory> directory(::fdopendir(fd.get()));
    if (!directory) cannot_read(shown, errno);
    fd.release();  // the DIR owns it now
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(directory.get());
        if (entry == nullptr) break;
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) cannot_read(shown, errno);
    std::ranges::sort(names);
    const int at = ::dirfd(directory.get());
    // Each entry as "+", its name and what it is; "." ends the directory. An entry removed
    // since the directory was read (a build's temporary file) is no longer part of it: it is
    // left out whole, before any of it is hashed.
    out.update("d");
    for (const std::string& name : names) {
        const std::string path = shown + (shown.ends_with('/') ? "" : "/") + name;
        struct stat entry {};
        if (::fstatat(at, name.c_str(), &entry, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            cannot_read(path, errno);
        }
        if (S_ISLNK(entry.st_mode)) {
            std::optional<std::string> target = link_target(at, name, path);
            if (!target) continue;
            out.update("+");
            field(out, name);
            out.update("l");
            field(out, *target);
            continue;
        }
        if (!S_ISREG(entry.st_mode) && !S_ISDIR(entry.st_mode)) {
            out.update("+");
            field(out, name);
            out.update("o");  // a FIFO, a socket, a device: what it is, never read
            continue;
        }
        // O_NOFOLLOW and O_NONBLOCK: an entry replaced meanwhile by a symlink or a FIFO is
        // neither followed nor waited on.
        UniqueFd child(
            ::openat(at, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
        if (!child.valid() && errno == ENOENT) continue;
        if (!child.valid()) cannot_read(path, errno);
        out.update("+");
        field(out, name);
        hash_tree(out, std::move(child), path);
    }
    out.update(".");
}

void hash_tree(Sha256Stream& out, UniqueFd fd, const std::string& shown) {
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0) cannot_read(shown, errno);
    if (S_ISDIR(opened.st_mode)) {
        hash_directory(out, std::move(fd), shown);
    } else if (S_ISREG(opened.st_mode)) {
        out.update("r");
        field(out, content_digest(fd.get(), shown));
    } else {
        out.update("o");
    }
}

void hash_file_input(Sha256Stream& out, const std::string& path) {
    if (path.empty()) throw UsageError("--key-file needs a path");
    // The path given is followed if it is a symlink (the user named it). What it is, before
    // it is opened: opening a FIFO would wake its writer, a terminal could become ours.
    struct stat named {};
    if (::stat(path.c_str(), &named) != 0) cannot_read(path, errno);
    if (!S_ISREG(named.st_mode) && !S_ISDIR(named.st_mode)) {
        throw UsageError("--key-file " + path + ": not a regular file or a directory");
    }
    // O_NONBLOCK and O_NOCTTY still, for a path replaced meanwhile (hash_tree checks again).
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) cannot_read(path, errno);
    out.update("F");
    hash_tree(out, std::move(fd), path);
}

void hash_variable(Sha256Stream& out, const std::string& name,
                   const EnvironmentLookup& environment) {
    if (name.empty() || name.find('=') != std::string::npos) {
        throw UsageError("--key-env '" + name + "' is not the name of a variable");
    }
    out.update("E");
    field(out, name);
    const char* value = environment(name.c_str());
    if (value == nullptr) {
        out.update("-");  // unset, which differs from set and empty
        return;
    }
    out.update("=");
    field(out, value);
}

void hash_working_directory(Sha256Stream& out) {
    std::string path(PATH_MAX, '\0');
    if (::getcwd(path.data(), path.size()) == nullptr) {
        throw UsageError(std::string("--key-cwd: cannot tell the working directory: ") +
                         std::strerror(errno));
    }
    path.resize(std::strlen(path.c_str()));
    out.update("C");
    field(out, path);
}

}  // namespace

std::string key_inputs_suffix(const KeyInputs& inputs, const EnvironmentLookup& environment) {
    Sha256Stream out;
    field(out, k_format);
    for (const std::string& path : inputs.files) hash_file_input(out, path);
    for (const std::string& name : inputs.variables) hash_variable(out, name, environment);
    if (inputs.working_directory) hash_working_directory(out);
    return ":in-" + out.hex_digest().substr(0, k_digits);
}

}  // namespace lockrun
