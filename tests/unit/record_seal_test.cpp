#include "core/record_seal.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lockrun {
namespace {

CachedResult sample_result() {
    CachedResult result;
    result.exit_code = 3;
    result.created_unix_ms = 1'700'000'000'000;
    result.host = "builder";
    result.fence = 42;
    result.output = {{OutputStream::stdout_stream, "out\n"}, {OutputStream::stderr_stream, "e"}};
    return result;
}

const std::string k_secret(32, 's');
constexpr std::int64_t k_now = 1'800'000'000'000;
constexpr std::int64_t k_until = k_now + 60'000;

std::string reason(const std::variant<CachedResult, UnreadableRecord>& opened) {
    const auto* bad = std::get_if<UnreadableRecord>(&opened);
    return bad ? bad->reason : "";
}

TEST(RecordSeal, ASealedRecordOpensUnderTheSameKeyAndName) {
    RecordSeal seal(k_secret);
    std::string sealed =
        seal.seal(encode_cached_result(sample_result()), "lockrun:{k}:out", k_until);
    auto opened = seal.open(sealed, "lockrun:{k}:out", k_now);
    ASSERT_TRUE(std::holds_alternative<CachedResult>(opened)) << reason(opened);
    EXPECT_EQ(std::get<CachedResult>(opened), sample_result());
}

TEST(RecordSeal, AnyChangedByteOfTheRecordOrTagIsRefused) {
    RecordSeal seal(k_secret);
    const std::string sealed = seal.seal(encode_cached_result(sample_result()), "n", k_until);
    for (std::size_t i = 4; i < sealed.size(); ++i) {
        std::string changed = sealed;
        changed[i] = static_cast<char>(changed[i] ^ 0x01);
        EXPECT_NE(reason(seal.open(changed, "n", k_now)), "") << "byte " << i;
    }
}

TEST(RecordSeal, AnotherNameOrAnotherSecretIsRefused) {
    const std::string sealed = RecordSeal(k_secret).seal(encode_cached_result(sample_result()),
                                                         "lockrun:{a}:out", k_until);
    EXPECT_NE(reason(RecordSeal(k_secret).open(sealed, "lockrun:{b}:out", k_now)), "");
    EXPECT_NE(reason(RecordSeal(std::string(32, 't')).open(sealed, "lockrun:{a}:out", k_now)), "");
}

TEST(RecordSeal, ARecordPastItsSignedExpiryIsRefused) {
    RecordSeal seal(k_secret);
    std::string sealed = seal.seal(encode_cached_result(sample_result()), "n", k_until);
    EXPECT_EQ(reason(seal.open(sealed, "n", k_until - 1)), "");
    EXPECT_NE(reason(seal.open(sealed, "n", k_until)), "");
    // Without the secret nothing is verified, the expiry neither (Redis's TTL still applies).
    EXPECT_EQ(reason(RecordSeal().open(sealed, "n", k_until + 1)), "");
}

TEST(RecordSeal, WithASecretAnUnsignedRecordIsRefused) {
    std::string plain = encode_cached_result(sample_result());
    EXPECT_EQ(reason(RecordSeal(k_secret).open(plain, "n", k_now)),
              "not signed, and --cache-key-file is set");
}

TEST(RecordSeal, WithoutASecretRecordsAreStoredPlainAndReadSignedOrNot) {
    RecordSeal none;
    std::string plain = encode_cached_result(sample_result());
    EXPECT_EQ(none.seal(plain, "n", k_until), plain);
    EXPECT_EQ(reason(none.open(plain, "n", k_now)), "");
    EXPECT_EQ(reason(none.open(RecordSeal(k_secret).seal(plain, "n", k_until), "n", k_now)), "");
    EXPECT_EQ(reason(none.open("LKRS", "n", k_now)), "truncated");
}

}  // namespace
}  // namespace lockrun
