#include "util/json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace lockrun {
namespace {

TEST(JsonString, KeepsUtf8AndEscapesWhatJsonRequires) {
    EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    EXPECT_EQ(json_string("a\"b\\c\n\t\r"), R"("a\"b\\c\n\t\r")");
    EXPECT_EQ(json_string(std::string("\x1b\x7f\0", 3)), R"("\u001b\u007f\u0000")");
}

TEST(JsonString, ReplacesBytesThatAreNotUtf8) {
    EXPECT_EQ(json_string("ok\xff\xc3"), R"("ok\ufffd\ufffd")");
}

TEST(JsonObject, WritesFieldsInOrder) {
    std::uint64_t big = 18446744073709551615u;
    EXPECT_EQ(JsonObject()
                  .string("key", "a\"b")
                  .number("pid", -1)
                  .number("fence", big)
                  .boolean("held", false)
                  .raw("cache", "null")
                  .str(),
              R"({"key":"a\"b","pid":-1,"fence":18446744073709551615,"held":false,"cache":null})");
    EXPECT_EQ(JsonObject().str(), "{}");
}

TEST(JsonArray, JoinsJsonValues) {
    EXPECT_EQ(json_array({}), "[]");
    EXPECT_EQ(json_array({"1", R"({"a":true})"}), R"([1,{"a":true}])");
}

TEST(Base64, EncodesPerRfc4648) {
    EXPECT_EQ(base64(""), "");
    EXPECT_EQ(base64("f"), "Zg==");
    EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace lockrun
