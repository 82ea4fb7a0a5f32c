// The names of a key's files (backend/local/key_files.hpp): what the sweep and `list` take
// for a key's file, and what they leave alone.

#include "backend/local/key_files.hpp"

#include <gtest/gtest.h>

#include "util/digest.hpp"

namespace lockrun {
namespace {

const std::string k_base = sha256_hex("report:1");

TEST(KeyFileName, EachSuffixOfAKeysFiles) {
    for (std::string_view suffix : k_key_file_suffixes) {
        auto parsed = parse_key_file_name(k_base + std::string(suffix));
        ASSERT_TRUE(parsed.has_value()) << suffix;
        EXPECT_EQ(parsed->base, k_base);
        EXPECT_EQ(parsed->suffix, suffix);
        EXPECT_FALSE(parsed->temporary);
    }
}

TEST(KeyFileName, ATemporaryNameBeingWritten) {
    auto parsed = parse_key_file_name(k_base + ".out.tmp.0123abcd");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->suffix, ".out");
    EXPECT_TRUE(parsed->temporary);
}

TEST(KeyFileName, AnythingElseIsNoKeysFile) {
    for (const std::string& name :
         {std::string(".swept"), std::string("doctor.probe"), std::string("notes.txt"), k_base,
          k_base + ".lockx", k_base + ".out.tmp.", k_base + ".bak", k_base.substr(1) + ".lock",
          "A" + k_base.substr(1) + ".lock", "g" + k_base.substr(1) + ".lock"}) {
        EXPECT_FALSE(parse_key_file_name(name).has_value()) << name;
    }
}

}  // namespace
}  // namespace lockrun
