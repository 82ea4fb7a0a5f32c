#include "backend/redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.hpp"

namespace lockrun {
namespace {

using Transport = RedisUrl::Transport;

// The message of the ConfigError that parse_redis_url throws, or "" if it throws none.
std::string error_of(std::string_view text) {
    try {
        parse_redis_url(text);
    } catch (const ConfigError& error) {
        return error.what();
    }
    return "";
}

void expect_error(std::string_view text, std::string_view reason) {
    const std::string message = error_of(text);
    EXPECT_EQ(message.rfind("invalid Redis URL '", 0), 0u) << text << " -> " << message;
    EXPECT_NE(message.find(reason), std::string::npos) << text << " -> " << message;
}

TEST(ParseRedisUrl, ReadsAHostWithDefaults) {
    const RedisUrl url = parse_redis_url("redis://localhost");
    EXPECT_EQ(url.transport, Transport::tcp);
    EXPECT_EQ(url.host, "localhost");
    EXPECT_EQ(url.port, 6379);
    EXPECT_EQ(url.db, 0);
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "");
    EXPECT_EQ(url.socket_path, "");
}

TEST(ParseRedisUrl, ReadsPortAndDb) {
    const RedisUrl url = parse_redis_url("redis://127.0.0.1:6390/2");
    EXPECT_EQ(url.host, "127.0.0.1");
    EXPECT_EQ(url.port, 6390);
    EXPECT_EQ(url.db, 2);
}

TEST(ParseRedisUrl, ReadsDbWithoutPort) {
    const RedisUrl url = parse_redis_url("redis://h/3");
    EXPECT_EQ(url.port, 6379);
    EXPECT_EQ(url.db, 3);
}

TEST(ParseRedisUrl, ReadsAnEmptyPathAsDbZero) {
    EXPECT_EQ(parse_redis_url("redis://h/").db, 0);
}

TEST(ParseRedisUrl, ReadsTheExtremePortsAndDb) {
    EXPECT_EQ(parse_redis_url("redis://h:1").port, 1);
    EXPECT_EQ(parse_redis_url("redis://h:65535").port, 65535);
    EXPECT_EQ(parse_redis_url("redis://h/2147483647").db, 2147483647);
}

TEST(ParseRedisUrl, ReadsDbFromTheQueryOfATcpUrl) {
    EXPECT_EQ(parse_redis_url("redis://h:6380?db=4").db, 4);
    EXPECT_EQ(parse_redis_url("redis://h/?db=5").db, 5);
}

TEST(ParseRedisUrl, ReadsUserAndPassword) {
    const RedisUrl url = parse_redis_url("redis://alice:s3cret@h:6380/1");
    EXPECT_EQ(url.user, "alice");
    EXPECT_EQ(url.password, "s3cret");
    EXPECT_EQ(url.host, "h");
    EXPECT_EQ(url.port, 6380);
    EXPECT_EQ(url.db, 1);
}

TEST(ParseRedisUrl, ReadsAPasswordWithoutUser) {
    const RedisUrl url = parse_redis_url("redis://:s3cret@h");
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "s3cret");
}

TEST(ParseRedisUrl, ReadsAUserinfoWithoutColonAsThePasswordOfTheDefaultUser) {
    const RedisUrl url = parse_redis_url("redis://s3cret@h");
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "s3cret");
    EXPECT_EQ(parse_redis_url("rediss://s3cret@h:6380/2").password, "s3cret");
    EXPECT_EQ(parse_redis_url("rediss://s3cret@h:6380/2").user, "");
    const RedisUrl unix_url = parse_redis_url("unix://s3cret@/run/r.sock");
    EXPECT_EQ(unix_url.user, "");
    EXPECT_EQ(unix_url.password, "s3cret");
}

TEST(ParseRedisUrl, PercentDecodesAPasswordWithoutColon) {
    const RedisUrl url = parse_redis_url("redis://p%3Aa%40s%2Fs@h");
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "p:a@s/s");
}

TEST(ParseRedisUrl, ReadsAPasswordWithoutColonThatHoldsAnUnencodedAt) {
    const RedisUrl url = parse_redis_url("redis://p@ss@h");
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "p@ss");
    EXPECT_EQ(url.host, "h");
}

TEST(ParseRedisUrl, ReadsAUserWithAnEmptyPassword) {
    const RedisUrl url = parse_redis_url("redis://alice:@h");
    EXPECT_EQ(url.user, "alice");
    EXPECT_EQ(url.password, "");
}

TEST(ParseRedisUrl, ReadsAnEmptyUserinfoAsNoLogin) {
    const RedisUrl url = parse_redis_url("redis://@h");
    EXPECT_EQ(url.user, "");
    EXPECT_EQ(url.password, "");
    const RedisUrl colon_only = parse_redis_url("redis://:@h");
    EXPECT_EQ(colon_only.user, "");
    EXPECT_EQ(colon_only.password, "");
}

TEST(ParseRedisUrl, KeepsColonsAfterTheFirstInThePassword) {
    EXPECT_EQ(parse_redis_url("redis://u:a:b@h").password, "a:b");
}

TEST(ParseRedisUrl, PercentDecodesUserAndPassword) {
    const RedisUrl url = parse_redis_url("redis://u%40corp:p%3Aa%2Fs%25s%2a@h");
    EXPECT_EQ(url.user, "u@corp");
    EXPECT_EQ(url.password, "p:a/s%s*");
}

TEST(ParseRedisUrl, ReadsAPasswordWithUnencodedDelimiters) {
    const RedisUrl url = parse_redis_url("redis://:p@ss/w?r#d@h:6380/2");
    EXPECT_EQ(url.password, "p@ss/w?r#d");
    EXPECT_EQ(url.host, "h");
    EXPECT_EQ(url.port, 6380);
    EXPECT_EQ(url.db, 2);
}

TEST(ParseRedisUrl, ReadsTls) {
    const RedisUrl url = parse_redis_url("rediss://:pw@cache.example.com");
    EXPECT_EQ(url.transport, Transport::tls);
    EXPECT_EQ(url.host, "cache.example.com");
    EXPECT_EQ(url.port, 6379);
    EXPECT_EQ(url.password, "pw");
}

TEST(ParseRedisUrl, ReadsTheSchemeInAnyCase) {
    EXPECT_EQ(parse_redis_url("REDIS://h").transport, Transport::tcp);
    EXPECT_EQ(parse_redis_url("Rediss://h").transport, Transport::tls);
    EXPECT_EQ(parse_redis_url("UNIX:///s.sock").transport, Transport::unix_socket);
}

TEST(ParseRedisUrl, ReadsIpv6InBrackets) {
    const RedisUrl url = parse_redis_url("redis://[::1]:6380/2");
    EXPECT_EQ(url.host, "::1");
    EXPECT_EQ(url.port, 6380);
    EXPECT_EQ(url.db, 2);
    EXPECT_EQ(parse_redis_url("rediss://u:p@[2001:db8::7]").host, "2001:db8::7");
    EXPECT_EQ(parse_redis_url("redis://[::1]").port, 6379);
}

TEST(ParseRedisUrl, ReadsAUnixSocket) {
    const RedisUrl url = parse_redis_url("unix:///run/redis/redis.sock");
    EXPECT_EQ(url.transport, Transport::unix_socket);
    EXPECT_EQ(url.socket_path, "/run/redis/redis.sock");
    EXPECT_EQ(url.host, "");
    EXPECT_EQ(url.db, 0);
}

TEST(ParseRedisUrl, ReadsTheDbOfAUnixSocketFromTheQuery) {
    EXPECT_EQ(parse_redis_url("unix:///run/redis.sock?db=3").db, 3);
}

TEST(ParseRedisUrl, ReadsUserAndPasswordOfAUnixSocket) {
    const RedisUrl url = parse_redis_url("unix://alice:p%40ss@/run/redis.sock?db=5");
    EXPECT_EQ(url.user, "alice");
    EXPECT_EQ(url.password, "p@ss");
    EXPECT_EQ(url.socket_path, "/run/redis.sock");
    EXPECT_EQ(url.db, 5);
    EXPECT_EQ(parse_redis_url("unix://:pw@/s.sock").password, "pw");
}

TEST(ParseRedisUrl, ReadsAUnixSocketPathWithAnAt) {
    const RedisUrl url = parse_redis_url("unix:///run/user@1/redis.sock");
    EXPECT_EQ(url.socket_path, "/run/user@1/redis.sock");
    EXPECT_EQ(url.user, "");
}

TEST(ParseRedisUrl, ThrowsConfigErrorWithTheConfigExitCode) {
    try {
        parse_redis_url("redis://h:0");
        FAIL() << "no exception";
    } catch (const ConfigError& error) {
        EXPECT_EQ(error.exit_code(), 78);
    }
}

TEST(ParseRedisUrl, NamesTheRedactedUrlAndTheProblem) {
    EXPECT_EQ(error_of("redis://u:p@h:99999"),
              "invalid Redis URL 'redis://***@h:99999': port must be 1-65535");
}

TEST(ParseRedisUrl, RejectsEmpty) {
    expect_error("", "is empty");
}

TEST(ParseRedisUrl, RejectsAMissingScheme) {
    expect_error("localhost:6379", "has no scheme");
    expect_error("//h", "has no scheme");
    expect_error("redis:/h", "has no scheme");
}

TEST(ParseRedisUrl, RejectsUnknownSchemes) {
    expect_error("http://h", "unknown scheme 'http'");
    expect_error("redis+cluster://h", "unknown scheme 'redis+cluster'");
    expect_error("tcp://h:6379", "unknown scheme 'tcp'");
}

TEST(ParseRedisUrl, RejectsAnEmptyHost) {
    expect_error("redis://", "host is empty");
    expect_error("redis://:6379", "host is empty");
    expect_error("redis://u:p@", "host is empty");
    expect_error("redis:///1", "host is empty");
}

TEST(ParseRedisUrl, RejectsBadHostCharacters) {
    expect_error("redis://h o", "contains a bad character");
    expect_error("redis://h%20", "contains a bad character");
    expect_error("redis://h\n", "contains a control character");
}

TEST(ParseRedisUrl, RejectsPortsOutside1To65535) {
    for (const char* url :
         {"redis://h:0", "redis://h:65536", "redis://h:99999", "redis://h:", "redis://h:abc",
          "redis://h:-1", "redis://h:+1", "redis://h:6379x", "redis://h: 1",
          "redis://h:99999999999999999999", "redis://[::1]:0", "redis://[::1]:"}) {
        expect_error(url, "port must be 1-65535");
    }
}

TEST(ParseRedisUrl, RejectsDbThatIsNotANumber0To2147483647) {
    for (const char* url : {"redis://h/abc", "redis://h/-1", "redis://h/+1", "redis://h/2147483648",
                            "redis://h/1/2", "redis://h/1x", "redis://h/ 1", "redis://h?db=",
                            "unix:///s.sock?db=x", "unix:///s.sock?db=-1", "unix:///s.sock?db"}) {
        expect_error(url, "db must be a number 0-2147483647");
    }
}

TEST(ParseRedisUrl, RejectsADbGivenTwice) {
    expect_error("redis://h/1?db=2", "db is given twice");
    expect_error("unix:///s.sock?db=1&db=2", "db is given twice");
}

TEST(ParseRedisUrl, RejectsQueryParametersOtherThanDb) {
    expect_error("unix:///s.sock?foo=1", "unknown query parameter 'foo'");
    expect_error("unix:///s.sock?db=1&timeout=3", "unknown query parameter 'timeout'");
    expect_error("redis://h?protocol=3", "unknown query parameter 'protocol'");
    expect_error("unix:///s.sock?", "empty query");
}

TEST(ParseRedisUrl, RejectsARelativeUnixPath) {
    expect_error("unix://redis.sock", "must be absolute");
    expect_error("unix://", "must be absolute");
    expect_error("unix://?db=1", "must be absolute");
    expect_error("unix://u:p@redis.sock", "must be absolute");
}

TEST(ParseRedisUrl, RejectsTrailingGarbage) {
    expect_error("redis://h/1#x", "trailing garbage");
    expect_error("redis://h#x", "trailing garbage");
    expect_error("redis://[::1]x", "trailing garbage");
    expect_error("unix:///s.sock#x", "trailing garbage");
}

TEST(ParseRedisUrl, RejectsMalformedIpv6) {
    expect_error("redis://[::1", "no closing ']'");
    expect_error("redis://[]", "is not an IPv6 address");
    expect_error("redis://[127.0.0.1]", "is not an IPv6 address");
    expect_error("redis://[::g]:1", "is not an IPv6 address");
    expect_error("redis://::1", "must be in brackets");
    expect_error("redis://::1:6379", "must be in brackets");
}

TEST(ParseRedisUrl, RejectsBadPercentEncoding) {
    expect_error("redis://u:p%zz@h", "bad percent-encoding");
    expect_error("redis://u:p%4@h", "bad percent-encoding");
    expect_error("redis://u:p%@h", "bad percent-encoding");
    expect_error("redis://u%G0:p@h", "bad percent-encoding");
}

TEST(ParseRedisUrl, NeverPutsThePasswordInAnError) {
    for (const char* url : {
             "redis://u:s3cret@h:99999",
             "redis://:s3cret@h/abc",
             "redis://s3cret@h:0",  // redis-cli would read this as a password
             "http://u:s3cret@h",
             "redis://u:s3cret@",
             "redis://u:s3cret@h#frag",
             "redis://u:s3cret/x?y#z@h:0",
             "redis://u:s3cret%zz@h",
             "redis://u:s3cret@[::1",
             "redis://u:s3cret@::1",
             "redis://u:s3cret@h/1?db=2",
             "redis://h?password=s3cret",
             "redis://h?db=1&password=s3cret&x=y",
             "unix://u:s3cret@redis.sock",
             "unix://u:s3cret@/s.sock?x=1",
             "u:s3cret@h:6379",
             "user:pa://s3cret@host",
         }) {
        const std::string message = error_of(url);
        EXPECT_FALSE(message.empty()) << url;
        EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    }
}

TEST(ParseRedisUrl, KeepsAnErrorOnOneLine) {
    const std::string message = error_of("redis://h\n:0\r");
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find_first_of("\r\n"), std::string::npos) << message;
}

TEST(RedisUrlRedacted, HidesThePassword) {
    const RedisUrl url = parse_redis_url("redis://alice:s3cret@h:6380/2");
    EXPECT_EQ(url.redacted(), "redis://alice:***@h:6380/2");
}

TEST(RedisUrlRedacted, HidesAPasswordWithoutUser) {
    EXPECT_EQ(parse_redis_url("rediss://:s3cret@h").redacted(), "rediss://:***@h:6379");
}

TEST(RedisUrlRedacted, HidesAUserinfoWithoutColon) {
    EXPECT_EQ(parse_redis_url("redis://s3cret@h").redacted(), "redis://***@h:6379");
    EXPECT_EQ(parse_redis_url("redis://s%33cret@h/1").redacted(), "redis://***@h:6379/1");
    EXPECT_EQ(parse_redis_url("unix://s3cret@/run/r.sock").redacted(), "unix://***@/run/r.sock");
}

TEST(RedisUrlRedacted, ReadsBackWithTheSameMeaning) {
    for (const char* text :
         {"redis://s3cret@h", "redis://:s3cret@h", "redis://u:s3cret@h", "redis://u:@h"}) {
        const RedisUrl url = parse_redis_url(text);
        const RedisUrl again = parse_redis_url(url.redacted());
        EXPECT_EQ(again.user, url.user) << text;
        EXPECT_EQ(again.password.empty(), url.password.empty()) << text;
    }
}

TEST(RedisUrlRedacted, ShowsTheDefaultPortAndOmitsDbZero) {
    EXPECT_EQ(parse_redis_url("redis://h").redacted(), "redis://h:6379");
    EXPECT_EQ(parse_redis_url("redis://h:6379/0").redacted(), "redis://h:6379");
}

TEST(RedisUrlRedacted, ShowsAUserWithoutPassword) {
    EXPECT_EQ(parse_redis_url("redis://alice:@h").redacted(), "redis://alice:@h:6379");
}

TEST(RedisUrlRedacted, PercentEncodesTheUser) {
    EXPECT_EQ(parse_redis_url("redis://u%40corp:pw@h").redacted(), "redis://u%40corp:***@h:6379");
}

TEST(RedisUrlRedacted, PutsIpv6InBrackets) {
    EXPECT_EQ(parse_redis_url("redis://[::1]:6380/2").redacted(), "redis://[::1]:6380/2");
}

TEST(RedisUrlRedacted, WritesAUnixSocket) {
    EXPECT_EQ(parse_redis_url("unix://u:s3cret@/run/r.sock?db=3").redacted(),
              "unix://u:***@/run/r.sock?db=3");
    EXPECT_EQ(parse_redis_url("unix:///run/r.sock").redacted(), "unix:///run/r.sock");
}

TEST(RedisUrlRedacted, HidesAPasswordSetWithoutParsing) {
    RedisUrl url;
    url.host = "h";
    url.password = "from-password-file";
    EXPECT_EQ(url.redacted(), "redis://:***@h:6379");
}

TEST(RedisUrlRedacted, ParsesBackToTheSameServer) {
    for (const char* text : {"redis://u%3Ax:pw@[2001:db8::1]:7000/9", "rediss://h:1",
                             "unix://u:pw@/run/a@b.sock?db=2", "redis://:p@ss@h/1"}) {
        const RedisUrl url = parse_redis_url(text);
        const RedisUrl again = parse_redis_url(url.redacted());
        EXPECT_EQ(again.transport, url.transport) << text;
        EXPECT_EQ(again.host, url.host) << text;
        EXPECT_EQ(again.port, url.port) << text;
        EXPECT_EQ(again.socket_path, url.socket_path) << text;
        EXPECT_EQ(again.db, url.db) << text;
        EXPECT_EQ(again.user, url.user) << text;
        EXPECT_EQ(again.password.empty(), url.password.empty()) << text;
    }
}

}  // namespace
}  // namespace lockrun

namespace lockrun {
namespace {

// Found by tests/fuzz/redis_url_fuzz.cpp: a NUL inside a unix socket path was accepted.
TEST(ParseRedisUrl, RejectsControlCharactersAnywhere) {
    expect_error(std::string_view("unix:///run/redi\x01\0\0\0ck?db=3", 27), "control character");
    expect_error("redis://h\n:6379", "control character");
    expect_error("redis://h:6379/1\x7f", "control character");
}

}  // namespace
}  // namespace lockrun

namespace lockrun {
namespace {

TEST(ParseRedisUrl, ReadsTheSeedsOfACluster) {
    RedisUrl url = parse_redis_url("rediss://app:pw@10.0.0.1:7000,node-2.example,[::1]:7002/0");
    EXPECT_EQ(url.host, "10.0.0.1");
    EXPECT_EQ(url.port, 7000);
    EXPECT_EQ(url.more_seeds, (std::vector<RedisNode>{{"node-2.example", 6379}, {"::1", 7002}}));
    EXPECT_EQ(url.seeds().size(), 3u);
    EXPECT_EQ(url.redacted(), "rediss://app:***@10.0.0.1:7000,node-2.example:6379,[::1]:7002");
    RedisUrl second = url.at(url.more_seeds[0]);
    EXPECT_EQ(second.host, "node-2.example");
    EXPECT_TRUE(second.more_seeds.empty());
    EXPECT_EQ(second.password, "pw");
    EXPECT_EQ(parse_redis_url(url.redacted()).more_seeds, url.more_seeds);
}

TEST(ParseRedisUrl, RefusesAnEmptyOrBadSeed) {
    for (const char* bad :
         {"redis://a:1,,b:2", "redis://a:1,", "redis://a:1,b:0", "redis://a,b c"}) {
        EXPECT_THROW(parse_redis_url(bad), ConfigError) << bad;
    }
}

}  // namespace
}  // namespace lockrun

namespace lockrun {
namespace {

TEST(ParseRedisUrl, ReadsASentinelUrl) {
    RedisUrl url = parse_redis_url("redis+sentinel://:pw@10.0.0.1,10.0.0.2:26380/mymaster/3");
    EXPECT_EQ(url.transport, RedisUrl::Transport::tcp);
    EXPECT_EQ(url.sentinel_master, "mymaster");
    EXPECT_EQ(url.seeds(), (std::vector<RedisNode>{{"10.0.0.1", 26379}, {"10.0.0.2", 26380}}));
    EXPECT_EQ(url.db, 3);
    EXPECT_EQ(url.password, "pw");
    EXPECT_EQ(url.redacted(), "redis+sentinel://:***@10.0.0.1:26379,10.0.0.2:26380/mymaster/3");
    EXPECT_EQ(parse_redis_url(url.redacted()).sentinel_master, "mymaster");
    RedisUrl master = url.at({"10.0.0.9", 6379});
    EXPECT_TRUE(master.sentinel_master.empty());
    EXPECT_EQ(master.db, 3);
    EXPECT_EQ(parse_redis_url("rediss+sentinel://s1/m").transport, RedisUrl::Transport::tls);
}

TEST(ParseRedisUrl, ASentinelUrlNamesItsMaster) {
    for (const char* bad :
         {"redis+sentinel://s1:26379", "redis+sentinel://s1:26379/", "redis+sentinel://s1//2"}) {
        EXPECT_THROW(parse_redis_url(bad), ConfigError) << bad;
    }
}

}  // namespace
}  // namespace lockrun
