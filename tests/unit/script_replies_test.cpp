#include "backend/redis/script_replies.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "backend/redis/resp_value.hpp"
#include "core/cached_result.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

RespValue str(std::string text) {
    return RespValue::of_string(std::move(text));
}
RespValue integer(std::int64_t value) {
    return RespValue::of_integer(value);
}
RespValue array(std::vector<RespValue> elements) {
    return RespValue::of_array(std::move(elements));
}

CachedResult sample_result() {
    CachedResult result;
    result.exit_code = 2;
    result.created_unix_ms = 1'763'800'000'000;
    result.duration_ms = 1'500;
    result.host = "runner-3";
    result.output = {{OutputStream::stdout_stream, std::string("out\0put\n", 8)},
                     {OutputStream::stderr_stream, "err\n"}};
    return result;
}

// The {"held", ...} reply of check-and-acquire, as HMGET and PTTL produce it: PTTL an
// integer, every hash field a string (or nil when missing).
RespValue held_reply(RespValue pttl, RespValue fence, RespValue host, RespValue pid, RespValue user,
                     RespValue command, RespValue started) {
    return array({str("held"), std::move(pttl), std::move(fence), std::move(host), std::move(pid),
                  std::move(user), std::move(command), std::move(started)});
}

RespValue typical_held_reply(std::int64_t pttl) {
    return held_reply(integer(pttl), str("41"), str("build-2"), str("4242"), str("ci"),
                      str("./make-report 2026-11-22"), str("1763800000123"));
}

const Acquisition& acquisition_of(const AcquireReply& reply) {
    EXPECT_FALSE(reply.unreadable_record.has_value()) << *reply.unreadable_record;
    if (!reply.acquisition) throw std::logic_error("the reply has no acquisition");
    return *reply.acquisition;
}

// ---- check-and-acquire: {"acquired", fence} ----

TEST(ParseCheckAndAcquireReply, AcquiredWithAnIntegerFence) {
    AcquireReply reply = parse_check_and_acquire_reply(array({str("acquired"), integer(7)}));
    const Acquisition& acquisition = acquisition_of(reply);
    ASSERT_TRUE(std::holds_alternative<LockAcquired>(acquisition.outcome));
    EXPECT_EQ(std::get<LockAcquired>(acquisition.outcome).fence, 7u);
    EXPECT_FALSE(acquisition.unreadable_record.has_value());
}

TEST(ParseCheckAndAcquireReply, AcquiredWithAStringFence) {
    AcquireReply reply = parse_check_and_acquire_reply(array({str("acquired"), str("123")}));
    const Acquisition& acquisition = acquisition_of(reply);
    ASSERT_TRUE(std::holds_alternative<LockAcquired>(acquisition.outcome));
    EXPECT_EQ(std::get<LockAcquired>(acquisition.outcome).fence, 123u);
}

TEST(ParseCheckAndAcquireReply, AcquiredWithTheLargestFence) {
    AcquireReply reply =
        parse_check_and_acquire_reply(array({str("acquired"), integer(INT64_MAX)}));
    EXPECT_EQ(std::get<LockAcquired>(acquisition_of(reply).outcome).fence,
              static_cast<std::uint64_t>(INT64_MAX));
}

TEST(ParseCheckAndAcquireReply, AcceptsTheKindAsAStatus) {
    AcquireReply reply =
        parse_check_and_acquire_reply(array({RespValue::of_status("acquired"), integer(1)}));
    EXPECT_TRUE(std::holds_alternative<LockAcquired>(acquisition_of(reply).outcome));
}

// ---- {"hit", record} and {"shared", record} ----

TEST(ParseCheckAndAcquireReply, HitCarriesTheDecodedStoredResult) {
    CachedResult result = sample_result();
    AcquireReply reply =
        parse_check_and_acquire_reply(array({str("hit"), str(encode_cached_result(result))}));
    const Acquisition& acquisition = acquisition_of(reply);
    ASSERT_TRUE(std::holds_alternative<ResultFound>(acquisition.outcome));
    const ResultFound& found = std::get<ResultFound>(acquisition.outcome);
    EXPECT_EQ(found.result, result);
    EXPECT_FALSE(found.shared_outcome);
}

TEST(ParseCheckAndAcquireReply, SharedCarriesTheDecodedOutcomeOfTheRunWaitedFor) {
    CachedResult result = sample_result();
    result.exit_code = 1;
    AcquireReply reply =
        parse_check_and_acquire_reply(array({str("shared"), str(encode_cached_result(result))}));
    const Acquisition& acquisition = acquisition_of(reply);
    ASSERT_TRUE(std::holds_alternative<ResultFound>(acquisition.outcome));
    const ResultFound& found = std::get<ResultFound>(acquisition.outcome);
    EXPECT_EQ(found.result, result);
    EXPECT_TRUE(found.shared_outcome);
}

TEST(ParseCheckAndAcquireReply, HitWithAnEmptyResult) {
    AcquireReply reply = parse_check_and_acquire_reply(
        array({str("hit"), str(encode_cached_result(CachedResult{}))}));
    EXPECT_EQ(std::get<ResultFound>(acquisition_of(reply).outcome).result, CachedResult{});
}

TEST(ParseCheckAndAcquireReply, UndecodableHitIsAnUnreadableRecordAndNoAcquisition) {
    AcquireReply reply =
        parse_check_and_acquire_reply(array({str("hit"), str("stdout of an old lockrun\n")}));
    EXPECT_FALSE(reply.acquisition.has_value());
    ASSERT_TRUE(reply.unreadable_record.has_value());
    EXPECT_EQ(*reply.unreadable_record, "not a lockrun record");
}

TEST(ParseCheckAndAcquireReply, TruncatedHitIsAnUnreadableRecord) {
    std::string record = encode_cached_result(sample_result());
    record.pop_back();
    AcquireReply reply = parse_check_and_acquire_reply(array({str("hit"), str(record)}));
    EXPECT_FALSE(reply.acquisition.has_value());
    EXPECT_EQ(reply.unreadable_record, "truncated");
}

TEST(ParseCheckAndAcquireReply, HitFromANewerFormatIsAnUnreadableRecord) {
    std::string record = encode_cached_result(sample_result());
    record[4] = static_cast<char>(k_cached_result_version + 1);
    AcquireReply reply = parse_check_and_acquire_reply(array({str("hit"), str(record)}));
    EXPECT_FALSE(reply.acquisition.has_value());
    ASSERT_TRUE(reply.unreadable_record.has_value());
    EXPECT_NE(reply.unreadable_record->find("format"), std::string::npos);
}

TEST(ParseCheckAndAcquireReply, UndecodableSharedIsAnUnreadableRecordAndNoAcquisition) {
    AcquireReply reply = parse_check_and_acquire_reply(array({str("shared"), str("LKRN")}));
    EXPECT_FALSE(reply.acquisition.has_value());
    EXPECT_TRUE(reply.unreadable_record.has_value());
}

// ---- {"held", pttl, fence, host, pid, user, command, started} ----

TEST(ParseCheckAndAcquireReply, HeldCarriesTheHolderAndItsLeaseLeft) {
    AcquireReply reply = parse_check_and_acquire_reply(typical_held_reply(12'345));
    const Acquisition& acquisition = acquisition_of(reply);
    ASSERT_TRUE(std::holds_alternative<LockHeld>(acquisition.outcome));
    const LockHeld& held = std::get<LockHeld>(acquisition.outcome);
    EXPECT_EQ(held.lease_left, 12'345ms);
    EXPECT_EQ(held.fence, 41u);
    EXPECT_EQ(held.holder.host, "build-2");
    EXPECT_EQ(held.holder.pid, 4242);
    EXPECT_EQ(held.holder.user, "ci");
    EXPECT_EQ(held.holder.command, "./make-report 2026-11-22");
    EXPECT_EQ(held.holder.started_unix_ms, 1'763'800'000'123);
}

TEST(ParseCheckAndAcquireReply, HeldWithoutExpiryWaitsWithoutLimit) {
    AcquireReply reply = parse_check_and_acquire_reply(typical_held_reply(-1));
    EXPECT_EQ(std::get<LockHeld>(acquisition_of(reply).outcome).lease_left, k_infinite);
}

TEST(ParseCheckAndAcquireReply, HeldByALockThatJustExpiredHasNoLeaseLeft) {
    AcquireReply reply = parse_check_and_acquire_reply(typical_held_reply(-2));
    EXPECT_EQ(std::get<LockHeld>(acquisition_of(reply).outcome).lease_left, 0ms);
}

TEST(ParseCheckAndAcquireReply, HeldWithZeroLeaseLeft) {
    AcquireReply reply = parse_check_and_acquire_reply(typical_held_reply(0));
    EXPECT_EQ(std::get<LockHeld>(acquisition_of(reply).outcome).lease_left, 0ms);
}

TEST(ParseCheckAndAcquireReply, HeldWithEveryHashFieldMissing) {
    // A lock made by hand (HSET lock token x): HMGET answers nil for the rest.
    AcquireReply reply = parse_check_and_acquire_reply(
        held_reply(integer(5'000), RespValue::nil(), RespValue::nil(), RespValue::nil(),
                   RespValue::nil(), RespValue::nil(), RespValue::nil()));
    const LockHeld& held = std::get<LockHeld>(acquisition_of(reply).outcome);
    EXPECT_EQ(held.lease_left, 5'000ms);
    EXPECT_EQ(held.fence, 0u);
    EXPECT_EQ(held.holder.host, "");
    EXPECT_EQ(held.holder.pid, 0);
    EXPECT_EQ(held.holder.user, "");
    EXPECT_EQ(held.holder.command, "");
    EXPECT_EQ(held.holder.started_unix_ms, 0);
}

TEST(ParseCheckAndAcquireReply, HeldWithSomeFieldsMissing) {
    AcquireReply reply = parse_check_and_acquire_reply(held_reply(
        integer(-1), str("9"), str("h"), RespValue::nil(), str("u"), RespValue::nil(), str("17")));
    const LockHeld& held = std::get<LockHeld>(acquisition_of(reply).outcome);
    EXPECT_EQ(held.lease_left, k_infinite);
    EXPECT_EQ(held.fence, 9u);
    EXPECT_EQ(held.holder.host, "h");
    EXPECT_EQ(held.holder.pid, 0);
    EXPECT_EQ(held.holder.user, "u");
    EXPECT_EQ(held.holder.command, "");
    EXPECT_EQ(held.holder.started_unix_ms, 17);
}

TEST(ParseCheckAndAcquireReply, HeldKeepsACommandWithSpacesAndUnicode) {
    AcquireReply reply = parse_check_and_acquire_reply(
        held_reply(integer(1), str("1"), str("h\xC3\xB6st"), str("1"), str("\xE6\x97\xA5"),
                   str("sh -c 'echo \"a b\"'"), str("0")));
    const LockHeld& held = std::get<LockHeld>(acquisition_of(reply).outcome);
    EXPECT_EQ(held.holder.host, "h\xC3\xB6st");
    EXPECT_EQ(held.holder.user, "\xE6\x97\xA5");
    EXPECT_EQ(held.holder.command, "sh -c 'echo \"a b\"'");
}

// ---- error replies: the server refused ----

TEST(ParseCheckAndAcquireReply, OutOfMemoryErrorIsBackendUnavailable) {
    RespValue oom = RespValue::of_error("OOM command not allowed when used memory > 'maxmemory'.");
    try {
        parse_check_and_acquire_reply(oom);
        FAIL() << "no exception";
    } catch (const BackendUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find("out of memory (maxmemory)"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos) << e.what();
        EXPECT_EQ(e.exit_code(), exit_code::k_backend_unavailable);
    }
}

TEST(ParseCheckAndAcquireReply, NoscriptErrorIsBackendUnavailable) {
    EXPECT_THROW(parse_check_and_acquire_reply(
                     RespValue::of_error("NOSCRIPT No matching script. Please use EVAL.")),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, ScriptErrorIsBackendUnavailable) {
    EXPECT_THROW(parse_check_and_acquire_reply(RespValue::of_error(
                     "ERR Error running script (call to f_x): @user_script:3: oops")),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(RespValue::of_error("READONLY You can't write")),
                 BackendUnavailable);
}

// ---- wrong shapes: a bug or a foreign script ----

TEST(ParseCheckAndAcquireReply, ANonArrayIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(integer(1)), BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(RespValue::nil()), BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(str("acquired")), BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(RespValue::of_status("OK")), BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, AnEmptyArrayIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(array({})), BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, AnUnknownKindIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("stolen"), integer(1)})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("ACQUIRED"), integer(1)})),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, AKindThatIsNotAStringIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(array({integer(1), integer(1)})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({RespValue::nil(), integer(1)})),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, TheWrongNumberOfElementsIsABackendError) {
    std::string record = encode_cached_result(sample_result());
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired")})), BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired"), integer(1), integer(2)})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("hit")})), BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("hit"), str(record), str(record)})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("shared")})), BackendUnavailable);
    RespValue short_held = typical_held_reply(1);
    short_held.elements.pop_back();
    EXPECT_THROW(parse_check_and_acquire_reply(short_held), BackendUnavailable);
    RespValue long_held = typical_held_reply(1);
    long_held.elements.push_back(str("1"));  // whether it publishes its output
    long_held.elements.push_back(str("extra"));
    EXPECT_THROW(parse_check_and_acquire_reply(long_held), BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, AHolderThatPublishesItsOutputCanBeFollowed) {
    auto held_of = [](const RespValue& reply) {
        return std::get<LockHeld>(parse_check_and_acquire_reply(reply).acquisition->outcome);
    };
    RespValue publishing = typical_held_reply(1);
    publishing.elements.push_back(str("1"));
    EXPECT_TRUE(held_of(publishing).live);
    // A holder that does not (--no-cache), or lockrun 0.1's eight elements: waited for.
    RespValue silent = typical_held_reply(1);
    silent.elements.push_back(RespValue{});
    EXPECT_FALSE(held_of(silent).live);
    EXPECT_FALSE(held_of(typical_held_reply(1)).live);
}

TEST(ParseCheckAndAcquireReply, AFenceThatIsNotANumberIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired"), str("abc")})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired"), str("12x")})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired"), str("")})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("acquired"), array({})})),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, ALeaseLeftThatIsNotANumberIsABackendError) {
    // PTTL is the server's own answer, not a field that a client wrote.
    EXPECT_THROW(parse_check_and_acquire_reply(held_reply(str("soon"), str("1"), str("h"), str("1"),
                                                          str("u"), str("c"), str("0"))),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, HolderFieldsThatAreNotNumbersAreUnknown) {
    // Any client of the server can write the lock hash: a waiter still waits, for a holder
    // whose pid, fence and start are unknown (0).
    for (const char* garbage : {"pid", "12x", "", "-7", "99999999999999999999999", "1.5"}) {
        AcquireReply reply = parse_check_and_acquire_reply(
            held_reply(integer(9'000), str(garbage), str("h"), str(garbage), str("u"), str("c"),
                       str(garbage)));
        const LockHeld& held = std::get<LockHeld>(acquisition_of(reply).outcome);
        EXPECT_EQ(held.lease_left, 9'000ms) << garbage;
        EXPECT_EQ(held.fence, 0u) << garbage;
        EXPECT_EQ(held.holder.pid, 0) << garbage;
        EXPECT_EQ(held.holder.started_unix_ms, 0) << garbage;
        EXPECT_EQ(held.holder.host, "h");
    }
}

TEST(ParseCheckAndAcquireReply, HolderFieldsOfAnotherTypeAreUnknown) {
    AcquireReply reply = parse_check_and_acquire_reply(held_reply(
        integer(9'000), array({}), str("h"), array({str("1")}), str("u"), str("c"), array({})));
    const LockHeld& held = std::get<LockHeld>(acquisition_of(reply).outcome);
    EXPECT_EQ(held.fence, 0u);
    EXPECT_EQ(held.holder.pid, 0);
    EXPECT_EQ(held.holder.started_unix_ms, 0);
}

TEST(ParseStatusReply, HolderFieldsThatAreNotNumbersAreUnknown) {
    RespValue reply =
        array({integer(4'000), str("fence?"), str("h"), str("\r\nSET x y"), str("u"), str("c"),
               str("yesterday"), RespValue::nil(), integer(-2), RespValue::nil()});
    KeyStatus status = parse_status_reply(reply);
    ASSERT_TRUE(status.holder.has_value());
    EXPECT_EQ(status.holder->lease_left, 4'000ms);
    EXPECT_EQ(status.holder->fence, 0u);
    EXPECT_EQ(status.holder->holder.pid, 0);
    EXPECT_EQ(status.holder->holder.started_unix_ms, 0);
    EXPECT_EQ(status.holder->holder.host, "h");
}

TEST(ParseCheckAndAcquireReply, ARecordThatIsNotAStringIsABackendError) {
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("hit"), integer(1)})),
                 BackendUnavailable);
    EXPECT_THROW(parse_check_and_acquire_reply(array({str("shared"), array({})})),
                 BackendUnavailable);
}

TEST(ParseCheckAndAcquireReply, AReplyNotRedisIsABackendErrorInOneLine) {
    // Not lockrun's bug (70): a proxy or another service answered, so 69, saying so.
    try {
        parse_check_and_acquire_reply(array({str("stolen"), integer(1)}));
        FAIL() << "no exception";
    } catch (const BackendUnavailable& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("stolen"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("is it a Redis server"), std::string::npos)
            << e.what();
        EXPECT_EQ(e.exit_code(), exit_code::k_backend_unavailable);
    }
}

// ---- renew and finish: 1 ours, 0 not ----

TEST(ParseRenewReply, OneIsRenewed) {
    EXPECT_TRUE(parse_renew_reply(integer(1)));
}

TEST(ParseRenewReply, ZeroIsLost) {
    EXPECT_FALSE(parse_renew_reply(integer(0)));
}

TEST(ParseRenewReply, TheWrongTypeIsABackendError) {
    EXPECT_THROW(parse_renew_reply(str("1")), BackendUnavailable);
    EXPECT_THROW(parse_renew_reply(RespValue::of_status("OK")), BackendUnavailable);
    EXPECT_THROW(parse_renew_reply(RespValue::nil()), BackendUnavailable);
    EXPECT_THROW(parse_renew_reply(array({integer(1)})), BackendUnavailable);
}

TEST(ParseRenewReply, AnErrorIsBackendUnavailable) {
    EXPECT_THROW(parse_renew_reply(RespValue::of_error("OOM command not allowed")),
                 BackendUnavailable);
    EXPECT_THROW(parse_renew_reply(RespValue::of_error("NOSCRIPT No matching script")),
                 BackendUnavailable);
}

TEST(ParseFinishReply, OneIsReleased) {
    EXPECT_TRUE(parse_finish_reply(integer(1)));
}

TEST(ParseFinishReply, ZeroIsNotOurs) {
    EXPECT_FALSE(parse_finish_reply(integer(0)));
}

TEST(ParseFinishReply, TheWrongTypeIsABackendError) {
    EXPECT_THROW(parse_finish_reply(str("1")), BackendUnavailable);
    EXPECT_THROW(parse_finish_reply(RespValue::of_status("OK")), BackendUnavailable);
    EXPECT_THROW(parse_finish_reply(RespValue::nil()), BackendUnavailable);
    EXPECT_THROW(parse_finish_reply(array({})), BackendUnavailable);
}

TEST(ParseFinishReply, AnErrorIsBackendUnavailable) {
    EXPECT_THROW(parse_finish_reply(RespValue::of_error("OOM command not allowed")),
                 BackendUnavailable);
    EXPECT_THROW(parse_finish_reply(RespValue::of_error("NOSCRIPT No matching script")),
                 BackendUnavailable);
}

// ---- status: {lock_pttl, fence, host, pid, user, command, started, record, out_pttl, key} ----

RespValue status_reply(RespValue lock_pttl, RespValue record, RespValue out_pttl, RespValue key) {
    bool held = lock_pttl.integer != -2;
    auto field = [&](const char* text) { return held ? str(text) : RespValue::nil(); };
    return array({std::move(lock_pttl), field("41"), field("build-2"), field("4242"), field("ci"),
                  field("./make-report"), field("1763800000123"), std::move(record),
                  std::move(out_pttl), std::move(key)});
}

TEST(ParseStatusReply, AFreeKeyWithNothingStored) {
    KeyStatus status = parse_status_reply(
        status_reply(integer(-2), RespValue::nil(), integer(-2), RespValue::nil()));
    EXPECT_FALSE(status.holder.has_value());
    EXPECT_FALSE(status.stored.has_value());
}

TEST(ParseStatusReply, AHeldKeyWithAStoredResult) {
    std::string record = encode_cached_result(sample_result());
    KeyStatus status = parse_status_reply(
        status_reply(integer(1500), str(record), integer(60'000), str("report:1")));
    ASSERT_TRUE(status.holder.has_value());
    EXPECT_EQ(status.holder->lease_left, 1500ms);
    EXPECT_EQ(status.holder->fence, 41u);
    EXPECT_EQ(status.holder->holder.host, "build-2");
    EXPECT_EQ(status.holder->holder.pid, 4242);
    ASSERT_TRUE(status.stored.has_value());
    EXPECT_EQ(status.stored->ttl_left, 60'000ms);
    EXPECT_EQ(status.stored->size_bytes, record.size());
    EXPECT_EQ(std::get<CachedResult>(status.stored->record), sample_result());
}

TEST(ParseStatusReply, TheOldNineElementShapeIsABackendError) {
    RespValue reply = status_reply(integer(-2), RespValue::nil(), integer(-2), RespValue::nil());
    reply.elements.pop_back();
    EXPECT_THROW(parse_status_reply(reply), BackendUnavailable);
}

TEST(ParseNamedStatusReply, AHeldLockNamesTheKeyItRecorded) {
    NamedStatus named = parse_named_status_reply(
        status_reply(integer(1500), RespValue::nil(), integer(-2), str("a{b}c")));
    EXPECT_TRUE(named.status.holder.has_value());
    EXPECT_EQ(named.recorded_key, "a{b}c");
}

TEST(ParseNamedStatusReply, ALockOfAnOlderLockrunRecordsNoKey) {
    NamedStatus named = parse_named_status_reply(
        status_reply(integer(1500), RespValue::nil(), integer(-2), RespValue::nil()));
    EXPECT_TRUE(named.status.holder.has_value());
    EXPECT_FALSE(named.recorded_key.has_value());
}

TEST(ParseNamedStatusReply, AFreeKeyNamesNothing) {
    std::string record = encode_cached_result(sample_result());
    NamedStatus named = parse_named_status_reply(
        status_reply(integer(-2), str(record), integer(1000), RespValue::nil()));
    EXPECT_FALSE(named.status.holder.has_value());
    EXPECT_TRUE(named.status.stored.has_value());
    EXPECT_FALSE(named.recorded_key.has_value());
}

// ---- SCAN: {cursor, {key...}} ----

TEST(ParseScanReply, CursorAndKeys) {
    ScanReply scan = parse_scan_reply(
        array({str("1792"), array({str("lockrun:{a}:lock"), str("lockrun:{b}:out")})}));
    EXPECT_EQ(scan.cursor, "1792");
    EXPECT_EQ(scan.keys, (std::vector<std::string>{"lockrun:{a}:lock", "lockrun:{b}:out"}));
}

TEST(ParseScanReply, TheLastBatchMayBeEmpty) {
    ScanReply scan = parse_scan_reply(array({str("0"), array({})}));
    EXPECT_EQ(scan.cursor, "0");
    EXPECT_TRUE(scan.keys.empty());
}

TEST(ParseScanReply, ABinaryKeyNameIsKept) {
    std::string name("p:{a\0b}:out", 12);
    ScanReply scan = parse_scan_reply(array({str("0"), array({str(name)})}));
    EXPECT_EQ(scan.keys, std::vector<std::string>{name});
}

TEST(ParseScanReply, WrongShapesAreBackendErrors) {
    EXPECT_THROW(parse_scan_reply(array({str("0")})), BackendUnavailable);
    EXPECT_THROW(parse_scan_reply(array({str("0"), str("k")})), BackendUnavailable);
    EXPECT_THROW(parse_scan_reply(array({integer(0), array({})})), BackendUnavailable);
    EXPECT_THROW(parse_scan_reply(array({str("x1"), array({})})), BackendUnavailable);
    EXPECT_THROW(parse_scan_reply(array({str("0"), array({integer(3)})})), BackendUnavailable);
    EXPECT_THROW(parse_scan_reply(RespValue::nil()), BackendUnavailable);
}

TEST(ParseScanReply, AnErrorIsBackendUnavailable) {
    EXPECT_THROW(parse_scan_reply(RespValue::of_error("ERR unknown command 'SCAN'")),
                 BackendUnavailable);
}

// ---- semaphores (-n N, SPEC §9)

TEST(ParseCheckAndAcquireReply, TheNInForceOfASemaphoreIsNoAcquisition) {
    AcquireReply parsed = parse_check_and_acquire_reply(array({str("n"), str("3")}));
    EXPECT_FALSE(parsed.acquisition.has_value());
    EXPECT_EQ(parsed.max_holders_in_force, "3");
    // A semaphore hash without its N (written by hand): said as unknown, still no lock.
    parsed = parse_check_and_acquire_reply(array({str("n"), RespValue::nil()}));
    EXPECT_EQ(parsed.max_holders_in_force, "");
}

RespValue slot_holder(std::int64_t pttl, const char* fence, const char* pid) {
    return array({integer(pttl), str(fence), str("build-3"), str(pid), str("1001"), str("./export"),
                  str("1763800000999")});
}

TEST(ParseStatusReply, ASemaphoreListsEveryHolderTheFirstToExpireFirst) {
    RespValue reply = status_reply(integer(-2), RespValue::nil(), integer(-2), str("exports"));
    reply.elements.push_back(str("4"));
    reply.elements.push_back(slot_holder(900, "51", "11"));
    reply.elements.push_back(slot_holder(2500, "52", "12"));
    KeyStatus status = parse_status_reply(reply);
    EXPECT_EQ(status.max_holders, 4);
    ASSERT_EQ(status.holders.size(), 2u);
    EXPECT_EQ(status.holders[0].fence, 51u);
    EXPECT_EQ(status.holders[0].lease_left, 900ms);
    EXPECT_EQ(status.holders[1].holder.pid, 12);
    EXPECT_EQ(status.holders[1].holder.command, "./export");
    ASSERT_TRUE(status.holder.has_value());
    EXPECT_EQ(status.holder->fence, 51u);
}

TEST(ParseStatusReply, ASemaphoreWhoseLeasesAllRanOutIsFree) {
    RespValue reply = status_reply(integer(-2), RespValue::nil(), integer(-2), RespValue::nil());
    reply.elements.push_back(str("4"));
    KeyStatus status = parse_status_reply(reply);
    EXPECT_EQ(status.max_holders, 4);
    EXPECT_TRUE(status.holders.empty());
    EXPECT_FALSE(status.holder.has_value());
}

TEST(ParseStatusReply, AnExclusiveHolderIsTheOneHolderOfItsKey) {
    RespValue reply = status_reply(integer(1500), RespValue::nil(), integer(-2), str("k"));
    reply.elements.push_back(RespValue::nil());
    KeyStatus status = parse_status_reply(reply);
    EXPECT_EQ(status.max_holders, 1);
    ASSERT_EQ(status.holders.size(), 1u);
    EXPECT_EQ(status.holders[0].fence, 41u);
}

TEST(ParseStatusReply, ASemaphoreHolderOfTheWrongShapeIsABackendError) {
    RespValue reply = status_reply(integer(-2), RespValue::nil(), integer(-2), RespValue::nil());
    reply.elements.push_back(str("2"));
    reply.elements.push_back(array({integer(5), str("1")}));
    EXPECT_THROW(parse_status_reply(reply), BackendUnavailable);
}

}  // namespace
}  // namespace lockrun
