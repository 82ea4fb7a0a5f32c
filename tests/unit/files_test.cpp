// --files on a real disk (files/archive_files.cpp, files/extract_files.cpp): what is
// archived comes back the same in another directory, and an archive that would write outside
// it writes nothing. Each test works in directories of its own and gives the process its
// working directory back.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "files/archive_files.hpp"
#include "files/extract_files.hpp"
#include "util/zstd_stream.hpp"

namespace lockrun {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text, mode_t mode = 0644) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class Files : public ::testing::Test {
protected:
    Files() {
        std::string pattern = testing::TempDir() + "files-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
        root_ = pattern;
        fs::create_directories(root_ / "from");
        fs::create_directories(root_ / "into");
        fs::create_directories(root_ / "outside");
        was_ = fs::current_path();
    }
    ~Files() override {
        fs::current_path(was_);
        fs::remove_all(root_);
    }
    ArchivedFiles archive_in(const fs::path& dir, const std::vector<std::string>& paths,
                             std::uint64_t room = 1 << 30) {
        fs::current_path(dir);
        return archive_files(paths, room, [this] { ++keep_alive_calls_; });
    }
    ExtractedFiles extract_in(const fs::path& dir, const CachedResult& result) {
        fs::current_path(dir);
        return extract_files(result, false);
    }
    static CachedResult result_of(const ArchivedFiles& archived, std::vector<std::string> paths) {
        CachedResult result;
        result.files = std::move(paths);
        result.files_archive = archived.archive;
        result.files_archive_bytes = archived.archive_bytes;
        return result;
    }
    // A tar archive (pax) written by libarchive: entries of `kind` (AE_IFREG, AE_IFLNK with
    // its target in `text`), compressed as a record keeps it.
    struct Entry {
        std::string name;
        mode_t kind;
        std::string text;
    };
    static CachedResult forged(const std::vector<Entry>& entries) {
        std::vector<char> buffer(1 << 20);
        std::size_t used = 0;
        archive* out = archive_write_new();
        archive_write_set_format_pax_restricted(out);
        archive_write_open_memory(out, buffer.data(), buffer.size(), &used);
        for (const Entry& e : entries) {
            archive_entry* entry = archive_entry_new();
            archive_entry_set_pathname(entry, e.name.c_str());
            archive_entry_set_filetype(entry, e.kind);
            archive_entry_set_perm(entry, 0644);
            if (e.kind == AE_IFLNK) archive_entry_set_symlink(entry, e.text.c_str());
            if (e.kind == AE_IFREG) archive_entry_set_size(entry, e.text.size());
            archive_write_header(out, entry);
            if (e.kind == AE_IFREG) archive_write_data(out, e.text.data(), e.text.size());
            archive_entry_free(entry);
        }
        archive_write_close(out);
        archive_write_free(out);
        CachedResult result;
        result.files = {"dist"};
        ZstdCompressor compressor;
        compressor.add({buffer.data(), used}, result.files_archive);
        compressor.finish(result.files_archive);
        result.files_archive_bytes = used;
        return result;
    }

    fs::path root_;
    fs::path was_;
    int keep_alive_calls_ = 0;
};

TEST_F(Files, WhatIsArchivedIsExtractedTheSameElsewhere) {
    write_file(root_ / "from/dist/bin/app", "app\n", 0755);
    write_file(root_ / "from/dist/lib/secret", "secret\n", 0600);
    write_file(root_ / "from/dist/suid", "suid\n", 04755);
    fs::create_directories(root_ / "from/dist/empty");
    fs::create_symlink("bin/app", root_ / "from/dist/current");
    write_file(root_ / "from/report.xml", "<ok/>\n");
    ArchivedFiles archived = archive_in(root_ / "from", {"dist", "report.xml"});
    ASSERT_EQ(archived.failure, "");
    EXPECT_TRUE(archived.warnings.empty());
    EXPECT_FALSE(archived.over_room);
    EXPECT_GE(keep_alive_calls_, 9);  // an entry at least

    ExtractedFiles extracted =
        extract_in(root_ / "into", result_of(archived, {"dist", "report.xml"}));
    ASSERT_EQ(extracted.kind, ExtractedFiles::Kind::extracted) << extracted.reason;
    EXPECT_EQ(extracted.entries, 9u);  // dist, bin, app, lib, secret, suid, empty, current, report
    EXPECT_EQ(read_file(root_ / "into/dist/bin/app"), "app\n");
    EXPECT_EQ(read_file(root_ / "into/report.xml"), "<ok/>\n");
    EXPECT_EQ(fs::status(root_ / "into/dist/lib/secret").permissions(),
              fs::perms::owner_read | fs::perms::owner_write);
    // Kept executable, without the setuid bit.
    EXPECT_EQ(fs::status(root_ / "into/dist/suid").permissions() & fs::perms::set_uid,
              fs::perms::none);
    EXPECT_EQ(fs::status(root_ / "into/dist/suid").permissions() & fs::perms::owner_exec,
              fs::perms::owner_exec);
    EXPECT_EQ(fs::read_symlink(root_ / "into/dist/current"), "bin/app");
    EXPECT_TRUE(fs::is_directory(root_ / "into/dist/empty"));
    // Nothing else: no staging directory left behind.
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(root_ / "into")) {
        names.push_back(entry.path().filename());
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"dist", "report.xml"}));
}

TEST_F(Files, AMissingPathIsAWarningAndTheOthersAreArchived) {
    write_file(root_ / "from/dist/a", "a\n");
    ArchivedFiles archived = archive_in(root_ / "from", {"dist", "gone"});
    EXPECT_EQ(archived.failure, "");
    EXPECT_EQ(archived.warnings,
              std::vector<std::string>{"gone does not exist after the run: not shared"});
    ASSERT_EQ(extract_in(root_ / "into", result_of(archived, {"dist", "gone"})).kind,
              ExtractedFiles::Kind::extracted);
    EXPECT_EQ(read_file(root_ / "into/dist/a"), "a\n");
}

TEST_F(Files, AnArchiveOverTheRoomStopsThere) {
    write_file(root_ / "from/dist/a", std::string(1 << 20, 'x'));
    ArchivedFiles archived = archive_in(root_ / "from", {"dist"}, 100);
    EXPECT_TRUE(archived.over_room);
}

TEST_F(Files, ASymlinkAtThePathIsArchivedAsASymlinkNotFollowed) {
    write_file(root_ / "outside/secret", "not shared\n");
    fs::create_symlink(root_ / "outside", root_ / "from/dist");
    ArchivedFiles archived = archive_in(root_ / "from", {"dist"});
    ASSERT_EQ(archived.failure, "");
    ASSERT_EQ(extract_in(root_ / "into", result_of(archived, {"dist"})).kind,
              ExtractedFiles::Kind::extracted);
    EXPECT_TRUE(fs::is_symlink(root_ / "into/dist"));
}

TEST_F(Files, EntriesThatWouldWriteOutsideAreRefusedAndNothingIsWritten) {
    const std::string outside = (root_ / "outside").string();
    const std::vector<std::vector<Entry>> archives = {
        {{"dist/ok", AE_IFREG, "ok"}, {"dist/../../escape", AE_IFREG, "x"}},
        {{"dist/ok", AE_IFREG, "ok"}, {outside + "/abs", AE_IFREG, "x"}},
        {{"dist/ok", AE_IFREG, "ok"}, {"dist/l", AE_IFLNK, outside}, {"dist/l/x", AE_IFREG, "x"}},
        {{"dist/ok", AE_IFREG, "ok"}, {"dist/dev", AE_IFCHR, ""}},
        {{"dist/ok", AE_IFREG, "ok"}, {"elsewhere", AE_IFREG, "x"}},
        {{"dist", AE_IFLNK, outside}, {"dist/x", AE_IFREG, "x"}},
    };
    for (const auto& entries : archives) {
        ExtractedFiles extracted = extract_in(root_ / "into", forged(entries));
        EXPECT_EQ(extracted.kind, ExtractedFiles::Kind::refused) << entries.back().name;
        EXPECT_FALSE(extracted.reason.empty());
        EXPECT_TRUE(fs::is_empty(root_ / "into")) << entries.back().name;
        EXPECT_TRUE(fs::is_empty(root_ / "outside")) << entries.back().name;
        EXPECT_FALSE(fs::exists(root_ / "escape"));
    }
}

TEST_F(Files, NamesThatAreNotAsciiAreKeptAsTheirBytes) {
    const std::string name = "r\xc3\xa9sum\xc3\xa9 \xff.txt";  // UTF-8, then a byte that is not
    write_file(root_ / "from/dist" / name, "cv\n");
    ArchivedFiles archived = archive_in(root_ / "from", {"dist"});
    ASSERT_EQ(archived.failure, "");
    ExtractedFiles extracted = extract_in(root_ / "into", result_of(archived, {"dist"}));
    ASSERT_EQ(extracted.kind, ExtractedFiles::Kind::extracted) << extracted.reason;
    EXPECT_EQ(read_file(root_ / "into/dist" / name), "cv\n");
}

TEST_F(Files, ReadOnlyDirectoriesAreExtractedWithTheirModes) {
    write_file(root_ / "from/dist/ro/file", "x\n");
    ::chmod((root_ / "from/dist/ro").c_str(), 0555);
    ::chmod((root_ / "from/dist").c_str(), 0500);
    ArchivedFiles archived = archive_in(root_ / "from", {"dist"});
    ASSERT_EQ(archived.failure, "");
    ASSERT_EQ(extract_in(root_ / "into", result_of(archived, {"dist"})).kind,
              ExtractedFiles::Kind::extracted);
    // Again, into the read-only tree the first extraction left.
    ExtractedFiles again = extract_in(root_ / "into", result_of(archived, {"dist"}));
    ASSERT_EQ(again.kind, ExtractedFiles::Kind::extracted) << again.reason;
    struct stat info {};
    ASSERT_EQ(::stat((root_ / "into/dist").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0500u);
    ASSERT_EQ(::stat((root_ / "into/dist/ro").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0555u);
    EXPECT_EQ(read_file(root_ / "into/dist/ro/file"), "x\n");
    for (const char* dir : {"from/dist", "from/dist/ro", "into/dist", "into/dist/ro"}) {
        ::chmod((root_ / dir).c_str(), 0700);
    }
}

TEST_F(Files, ANameTooLongOrTooDeepIsTheArchivesFaultNotThisHosts) {
    std::string deep = "dist";
    for (int i = 0; i < 130; ++i) deep += "/d";
    for (const std::string& name : {"dist/" + std::string(300, 'n'), deep}) {
        ExtractedFiles extracted = extract_in(root_ / "into", forged({{name, AE_IFREG, "x"}}));
        EXPECT_EQ(extracted.kind, ExtractedFiles::Kind::refused) << extracted.reason;
        EXPECT_TRUE(fs::is_empty(root_ / "into"));
    }
}

TEST_F(Files, AnArchiveCutShortOrLongerThanItsRecordSaysIsRefused) {
    CachedResult result = forged({{"dist/a", AE_IFREG, "a"}});
    CachedResult longer = result;
    longer.files_archive_bytes += 1;
    EXPECT_EQ(extract_in(root_ / "into", longer).reason,
              "the archive is not as long as its record says");
    CachedResult damaged = result;
    damaged.files_archive.back() = static_cast<char>(damaged.files_archive.back() ^ 0xff);
    ExtractedFiles extracted = extract_in(root_ / "into", damaged);
    EXPECT_EQ(extracted.kind, ExtractedFiles::Kind::refused);
    EXPECT_NE(extracted.reason.find("checksum"), std::string::npos) << extracted.reason;
    EXPECT_TRUE(fs::is_empty(root_ / "into"));
}

TEST_F(Files, ADirectoryInTheWayFailsAndLeavesWhatIsThere) {
    fs::create_directories(root_ / "into/dist/a");
    ExtractedFiles extracted = extract_in(root_ / "into", forged({{"dist/a", AE_IFREG, "a"}}));
    EXPECT_EQ(extracted.kind, ExtractedFiles::Kind::failed);
    EXPECT_EQ(extracted.reason, "dist/a is in the way: it is a directory, and a file goes there");
    EXPECT_TRUE(fs::is_directory(root_ / "into/dist/a"));
}

}  // namespace
}  // namespace lockrun
