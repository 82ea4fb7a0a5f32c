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
};

// Where a reply's stored records were read from, for --cache-key-file's signatures.
struct RecordNames {
    std::string_view out;   // PREFIX{KEY}:out
    std::string_view last;  // PREFIX{KEY}:last
};

// Throws InternalError for a reply of the wrong shape, BackendUnavailable for an error
// reply (such as OOM or a script the server refuses). A record is opened with `seal`.
AcquireReply parse_check_and_acquire_reply(const RespValue& reply, const RecordSeal& seal = {},
                                           RecordNames names = {});

// true renewed, false lost.
bool parse_renew_reply(const RespValue& reply);

KeyStatus parse_status_reply(const RespValue& reply, const RecordSeal& seal = {},
                             std::string_view out_name = {});
// The same reply as `list` reads it: the status, and the KEY that the lock records (nullopt
// when the lock is free, or was taken by a lockrun that did not record it).
struct NamedStatus {
    KeyStatus status;
    std::optional<std::string> recorded_key;
};
NamedStatus parse_named_status_reply(const RespValue& reply, const RecordSeal& seal = {},
                                     std::string_view out_name = {});
bool parse_finish_reply(const RespValue& reply);

// SCAN's reply: the cursor to go on with ("0": done) and the names of this batch.
struct ScanReply {
    std::string cursor;
    std::vector<std::string> keys;
};
ScanReply parse_scan_reply(const RespValue& reply);

}  // namespace lockrun
