#pragma once
// --cache-key-file (SPEC §1, §5): every stored record signed with HMAC-SHA256 under a
// secret that every host shares, over the record and the name it is stored under. Anyone
// who can write to the Redis server (or the state dir) can store a record; without the
// secret, none of theirs is replayed, and a valid record copied under another key is not
// either.
//
// A signed record is "LKRS", the 32-byte tag, its expiry (unix ms, 8 bytes little-endian),
// then the record as encode_cached_result wrote it ("LKRN"...). The expiry is signed with
// it: a record put back after its time (SET again, without a TTL) is refused, not replayed
// for ever.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/cached_result.hpp"

namespace lockrun {

class RecordSeal {
public:
    // No secret: records are stored unsigned, and read signed or not (unverified).
    RecordSeal() = default;
    explicit RecordSeal(std::string secret) : secret_(std::move(secret)) {}

    bool signs() const { return secret_.has_value(); }
    // The record as it is to be stored under `name` (the backend's name for it), to be
    // used until `expires_unix_ms`.
    std::string seal(std::string record, std::string_view name, std::int64_t expires_unix_ms) const;
    // The result in a stored record, or why it may not be used: with a secret, a record with
    // no tag, a tag that does not verify for this name, or one past its expiry at `now_unix_ms`,
    // is unreadable.
    std::variant<CachedResult, UnreadableRecord> open(std::string_view stored,
                                                      std::string_view name,
                                                      std::int64_t now_unix_ms) const;

private:
    std::optional<std::string> secret_;
};

}  // namespace lockrun
