#pragma once
// Turns the replies of the scripts in lua_scripts.hpp into the core's types. Pure, so that
// every shape a server can answer with is unit-tested.

#include "backend/redis/resp_value.hpp"
#include "core/backend.hpp"
#include "core/record_seal.hpp"

namespace lockrun {

// Either what the script decided, or (a stored or shared record that cannot be decoded) the
// reason the record is unusable: then nothing was taken, and the caller asks again
// without reading results.
struct AcquireReply {
    std::optional<Acquisition> acquisition;
    std::optional<std::string> unreadable_record;
    // A semaphore's N (or "1": an exclusive lock) that the caller's -n does not match.
    std::optional<std::string> max_holders_in_force{};
};

// Where a reply's stored records were read from, for --cache-key-file's signatures.
struct RecordNames {
    std::string_view out;          // PREFIX{KEY}:out
    std::string_view last;         // PREFIX{KEY}:last
    std::int64_t now_unix_ms = 0;  // for a signed record's expiry
};

// Throws InternalError for a reply of the wrong shape, BackendUnavailable for an error
// reply (such as OOM or a script the server refuses). A record is opened with `seal`.
AcquireReply parse_check_and_acquire_reply(const RespValue& reply, const RecordSeal& seal = {},
                                           RecordNames names = {});

// A shared outcome (SPEC §1) is the run that the caller waited for, or no use to it: one
// whose own fence is another run's (an old record put back under :last) becomes unreadable.
void reject_foreign_shared_outcome(AcquireReply& reply,
                                   const std::optional<std::uint64_t>& waited_for_fence);

// true renewed, false lost.
bool parse_renew_reply(const RespValue& reply);

KeyStatus parse_status_reply(const RespValue& reply, const RecordSeal& seal = {},
                             RecordNames names = {});
// The same reply as `list` reads it: the status, and the KEY that the lock records (nullopt
// when the lock is free, or was taken by a lockrun that did not record it).
struct NamedStatus {
    KeyStatus status;
    std::optional<std::string> recorded_key;
};
NamedStatus parse_named_status_reply(const RespValue& reply, const RecordSeal& seal = {},
                                     RecordNames names = {});
bool parse_finish_reply(const RespValue& reply);

// SCAN's reply: the cursor to go on with ("0": done) and the names of this batch.
struct ScanReply {
    std::string cursor;
    std::vector<std::string> keys;
};
ScanReply parse_scan_reply(const RespValue& reply);

}  // namespace lockrun
