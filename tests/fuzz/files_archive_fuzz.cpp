// libFuzzer: the --files extraction (files/extract_files.cpp) is given any bytes as the tar
// archive of a record that shares `dist`. It must never crash, never write outside the
// directory it extracts into, never write there anything but `dist`, and never leave its
// staging directory behind, whatever it refuses. (A write further out, or to an absolute
// path, is not seen here: the entry checks and tests/unit/files_test.cpp cover those.)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "files/extract_files.hpp"
#include "util/zstd_stream.hpp"

namespace {

std::vector<std::string> names_in(const char* path) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(path);
    if (dir == nullptr) std::abort();
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

void remove_tree(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;
    if (S_ISDIR(info.st_mode)) {
        ::chmod(path.c_str(), S_IRWXU);
        for (const std::string& name : names_in(path.c_str())) remove_tree(path + "/" + name);
        ::rmdir(path.c_str());
    } else {
        ::unlink(path.c_str());
    }
}

// A directory of our own, made once and removed at exit; each input is extracted in its
// subdirectory `work`.
class Sandbox {
public:
    Sandbox() {
        char name[] = "/tmp/lockrun-files-fuzz-XXXXXX";
        if (::mkdtemp(name) == nullptr) std::abort();
        path_ = name;
    }
    ~Sandbox() { remove_tree(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

const std::string& sandbox() {
    static const Sandbox sandbox;
    return sandbox.path();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Extracted two levels down, so that a write up to two levels out is seen.
    const std::string root = sandbox() + "/a/b";
    if (::mkdir((sandbox() + "/a").c_str(), 0700) != 0 && errno != EEXIST) std::abort();
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) std::abort();
    if (::chdir(root.c_str()) != 0 || ::mkdir("work", 0700) != 0 || ::chdir("work") != 0) {
        std::abort();
    }
    lockrun::CachedResult result;
    result.files = {"dist"};
    lockrun::ZstdCompressor compressor;
    compressor.add({reinterpret_cast<const char*>(data), size}, result.files_archive);
    compressor.finish(result.files_archive);
    result.files_archive_bytes = size;
    lockrun::ExtractedFiles extracted = lockrun::extract_files(result, false);
    if (extracted.kind != lockrun::ExtractedFiles::Kind::extracted && extracted.reason.empty()) {
        std::abort();
    }
    // Nothing beside `work` or its parents, and nothing in it but `dist`.
    if (names_in(root.c_str()) != std::vector<std::string>{"work"}) std::abort();
    if (names_in((sandbox() + "/a").c_str()) != std::vector<std::string>{"b"}) std::abort();
    if (names_in(sandbox().c_str()) != std::vector<std::string>{"a"}) std::abort();
    for (const std::string& name : names_in(".")) {
        if (name != "dist") std::abort();
    }
    if (::chdir(root.c_str()) != 0) std::abort();
    remove_tree(root + "/work");
    return 0;
}
