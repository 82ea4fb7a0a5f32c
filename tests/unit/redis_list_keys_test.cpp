// RedisBackend::list_keys (SPEC §7 `list`) on the real redis-server that scripts/test
// starts (LOCKRUN_TEST_REDIS_URL): every key with a held lock or a stored result under the
// prefix, found with SCAN, named as the user gave it, with its status, sorted. Each test has
// a prefix of its own, so that the keys of other tests on the same server do not count.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "backend/redis/key_listing.hpp"
#include "backend/redis/redis_backend.hpp"
#include "backend/redis/script_replies.hpp"
#include "core/errors.hpp"
#include "fakes/test_redis_server.hpp"
#include "util/digest.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

using namespace std::chrono_literals;

ConnectionSettings test_server() {
    return fakes::test_redis_server();
}

CachedResult result_of(const std::string& host) {
    CachedResult result;
    result.exit_code = 0;
    result.created_unix_ms = 1'700'000'000'000;
    result.host = host;
    result.output = {{OutputStream::stdout_stream, "out\n"}};
    return result;
}

class RedisListKeys : public ::testing::Test {
protected:
    // Glob characters in the prefix: the SCAN pattern must take them literally.
    RedisListKeys() : prefix_("lockrun-list-test:" + random_token() + ":*?[x]\\:") {}
    ~RedisListKeys() override {
        // Leave the server as it was found: every name under the prefix, fences included.
        try {
            RedisConnection c = RedisConnection::open(test_server(), nullptr);
            std::string cursor = "0";
            do {
                ScanReply scan = parse_scan_reply(
                    c.call({"SCAN", cursor, "MATCH", scan_pattern(prefix_), "COUNT", "1000"},
                           Deadline::after(5s)));
                for (const std::string& name : scan.keys)
                    c.call({"DEL", name}, Deadline::after(5s));
                cursor = scan.cursor;
            } while (cursor != "0");
            for (const std::string& name : extra_names_) c.call({"DEL", name}, Deadline::after(5s));
        } catch (const std::exception& e) {
            ADD_FAILURE() << "cleaning up: " << e.what();
        }
    }

    std::unique_ptr<RedisBackend> backend(const std::string& key, const std::string& prefix = "") {
        return std::make_unique<RedisBackend>(test_server(), prefix.empty() ? prefix_ : prefix, key,
                                              nullptr);
    }
    AcquireRequest request(const std::string& token) {
        AcquireRequest r;
        r.token = token;
        r.lease = 30s;
        r.holder = {"host-a", 4242, "alice", "make report", 1'700'000'000'000};
        return r;
    }
    // Takes the lock of `key` (also when a result is stored) and keeps it; returns the fence.
    std::uint64_t hold(const std::string& key) {
        AcquireRequest r = request("holder-of-" + key);
        r.read_cache = false;
        Acquisition got = backend(key)->check_and_acquire(r);
        return std::get<LockAcquired>(got.outcome).fence;
    }
    // Runs `key` to the end, storing a result (or, with store false, nothing).
    void run_to_end(const std::string& key, bool store) {
        auto b = backend(key);
        std::string token = "runner-of-" + key;
        std::uint64_t fence =
            std::get<LockAcquired>(b->check_and_acquire(request(token)).outcome).fence;
        std::optional<std::string> record;
        if (store) record = encode_cached_result(result_of("host-of-" + key));
        ASSERT_TRUE(b->finish(FinishRequest{token, fence, record, 60s, std::nullopt}));
    }

    std::string prefix_;
    std::vector<std::string> extra_names_;
};

std::vector<std::string> names_of(const std::vector<ListedKey>& listed) {
    std::vector<std::string> names;
    for (const ListedKey& key : listed) names.push_back(key.key);
    return names;
}

TEST_F(RedisListKeys, NothingUnderAFreshPrefix) {
    EXPECT_TRUE(backend("any")->list_keys().empty());
}

TEST_F(RedisListKeys, HeldLocksAndStoredResultsSortedByKeyButNoFenceAlone) {
    std::uint64_t fence = hold("held");
    run_to_end("stored", true);
    run_to_end("fence-only", false);  // leaves the fence counter, nothing to list
    std::uint64_t both_fence = hold("both");
    run_to_end("stored-then-held", true);
    hold("stored-then-held");

    std::vector<ListedKey> listed = backend("any")->list_keys();
    ASSERT_EQ(names_of(listed),
              (std::vector<std::string>{"both", "held", "stored", "stored-then-held"}));
    for (const ListedKey& key : listed) EXPECT_TRUE(key.name_known) << key.key;

    const KeyStatus& both = listed[0].status;
    ASSERT_TRUE(both.holder.has_value());
    EXPECT_EQ(both.holder->fence, both_fence);
    EXPECT_FALSE(both.stored.has_value());

    const KeyStatus& held = listed[1].status;
    ASSERT_TRUE(held.holder.has_value());
    EXPECT_EQ(held.holder->fence, fence);
    EXPECT_EQ(held.holder->holder.host, "host-a");
    EXPECT_EQ(held.holder->holder.pid, 4242);
    EXPECT_GT(held.holder->lease_left, 20s);
    EXPECT_FALSE(held.stored.has_value());

    const KeyStatus& stored = listed[2].status;
    EXPECT_FALSE(stored.holder.has_value());
    ASSERT_TRUE(stored.stored.has_value());
    ASSERT_TRUE(std::holds_alternative<CachedResult>(stored.stored->record));
    EXPECT_EQ(std::get<CachedResult>(stored.stored->record).host, "host-of-stored");
    EXPECT_GT(stored.stored->ttl_left, 50s);

    EXPECT_TRUE(listed[3].status.holder.has_value());
    EXPECT_TRUE(listed[3].status.stored.has_value());
}

TEST_F(RedisListKeys, TheSameAsReadStatus) {
    hold("k1");
    run_to_end("k2", true);
    for (const ListedKey& key : backend("any")->list_keys()) {
        KeyStatus status = backend(key.key)->read_status();
        EXPECT_EQ(key.status.holder.has_value(), status.holder.has_value()) << key.key;
        EXPECT_EQ(key.status.stored.has_value(), status.stored.has_value()) << key.key;
        if (status.holder) {
            EXPECT_EQ(key.status.holder->fence, status.holder->fence);
        }
        if (status.stored) {
            EXPECT_EQ(key.status.stored->size_bytes, status.stored->size_bytes);
        }
    }
}

TEST_F(RedisListKeys, AHeldKeyWithBracesIsListedUnderItsName) {
    hold("a{b}c");
    std::vector<ListedKey> listed = backend("any")->list_keys();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].key, "a{b}c");
    EXPECT_TRUE(listed[0].name_known);
}

TEST_F(RedisListKeys, AKeyWithBracesAndTheKeyThatIsItsDigestAreTwoKeys) {
    std::string digest = sha256_hex("a{b}c");
    ASSERT_LT(digest, "a{b}c");  // the order below
    hold("a{b}c");
    run_to_end(digest, true);
    std::vector<ListedKey> listed = backend("any")->list_keys();
    ASSERT_EQ(names_of(listed), (std::vector<std::string>{digest, "a{b}c"}));
    EXPECT_TRUE(listed[0].name_known);
    EXPECT_TRUE(listed[0].status.stored.has_value());
    EXPECT_FALSE(listed[0].status.holder.has_value());
    EXPECT_TRUE(listed[1].name_known);
    EXPECT_TRUE(listed[1].status.holder.has_value());
    EXPECT_FALSE(listed[1].status.stored.has_value());
}

TEST_F(RedisListKeys, AStoredResultOfAKeyWithBracesIsListedByItsDigest) {
    // Once the lock is gone, nothing in Redis names the KEY behind the SHA-256 tag.
    run_to_end("x}y", true);
    std::vector<ListedKey> listed = backend("any")->list_keys();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].key, sha256_hex("x}y"));
    EXPECT_FALSE(listed[0].name_known);
    EXPECT_TRUE(listed[0].status.stored.has_value());
}

TEST_F(RedisListKeys, KeysOfOtherPrefixesAreNotListed) {
    // A prefix that the glob pattern would match if its * ? [ ] \ were not escaped, and a
    // longer prefix that starts with ours.
    std::string lookalike = prefix_;
    for (char& c : lookalike) {
        if (c == '*' || c == '?' || c == '\\') c = 'z';
        if (c == '[') c = 'x';
        if (c == ']') c = 'x';
    }
    hold("mine");
    backend("theirs", lookalike)->check_and_acquire(request("t1"));
    backend("nested", prefix_ + "sub:")->check_and_acquire(request("t2"));
    extra_names_ = {lookalike + "{theirs}:lock", lookalike + "{theirs}:fence",
                    prefix_ + "sub:{nested}:lock", prefix_ + "sub:{nested}:fence"};
    EXPECT_EQ(names_of(backend("any")->list_keys()), std::vector<std::string>{"mine"});
}

TEST_F(RedisListKeys, ManyKeysOverSeveralScanBatches) {
    // More than SCAN's COUNT 1000, written directly to be quick.
    RedisConnection c = RedisConnection::open(test_server(), nullptr);
    std::string record = encode_cached_result(result_of("bulk"));
    std::vector<std::string> names;
    for (int i = 0; i < 2500; ++i) {
        names.push_back(prefix_ + "{bulk:" + std::to_string(10000 + i) + "}:out");
    }
    std::vector<std::vector<std::string_view>> sets;
    for (const std::string& name : names) sets.push_back({"SET", name, record, "PX", "60000"});
    c.call_pipelined(sets, StepDeadline::bare(Deadline::after(10s)));
    extra_names_ = names;

    std::vector<ListedKey> listed = backend("any")->list_keys();
    ASSERT_EQ(listed.size(), 2500u);
    for (int i = 0; i < 2500; ++i) {
        EXPECT_EQ(listed[i].key, "bulk:" + std::to_string(10000 + i));
        EXPECT_TRUE(listed[i].status.stored.has_value());
    }
}

}  // namespace
}  // namespace lockrun
