#include "backend/redis/resp_command.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace lockrun {
namespace {

// What hiredis, which formatted lockrun's commands before, makes of the same arguments.
std::string hiredis_formatted(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* raw = nullptr;
    int length =
        redisFormatCommandArgv(&raw, static_cast<int>(argv.size()), argv.data(), lengths.data());
    EXPECT_GE(length, 0);
    std::unique_ptr<char, decltype(&redisFreeCommand)> owned(raw, redisFreeCommand);
    return std::string(raw, static_cast<std::size_t>(length));
}

TEST(RespCommand, IsWhatHiredisFormats) {
    const std::string binary("a\0b\r\nc\n\r", 8);
    const std::string large(300 * 1024, 'x');
    const std::vector<std::vector<std::string_view>> commands{
        {"PING"},
        {"SET", "key", ""},
        {"XADD", "lockrun:{k}live", "7-42", "d", binary},
        {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "2", "k1", "k2", large},
    };
    for (const auto& args : commands) {
        std::string out;
        append_resp_command(out, args);
        EXPECT_TRUE(out == hiredis_formatted(args)) << args[0];
    }
}

TEST(RespCommand, AppendsToWhatIsThere) {
    std::string out = "queued";
    append_resp_command(out, {"GET", "k"});
    EXPECT_EQ(out, "queued*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

}  // namespace
}  // namespace lockrun
