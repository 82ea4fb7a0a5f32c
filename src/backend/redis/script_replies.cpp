#include "backend/redis/script_replies.hpp"

#include <algorithm>
#include <charconv>

#include "core/errors.hpp"

namespace lockrun {
namespace {

// Not lockrun's bug but the server's answer: something that speaks RESP but is not Redis
// running lockrun's scripts (a proxy that rewrites replies, another service on the port).
[[noreturn]] void malformed(const std::string& what) {
    throw BackendUnavailable(
        "the server's reply is not what Redis returns for lockrun's request (" + what +
        "): is it a Redis server, and not a proxy or another service?");
}

void throw_if_error(const RespValue& reply) {
    if (!reply.is_error()) return;
    if (reply.text.starts_with("OOM")) {
        throw BackendUnavailable(
            "Redis refused the request: it is out of memory (maxmemory); "
            "nothing was written (free memory or raise maxmemory)");
    }
    throw BackendUnavailable("Redis refused the request: " + reply.text);
}

const std::string& text_of(const RespValue& value, const char* what) {
    if (value.type != RespValue::Type::string && value.type != RespValue::Type::status) {
        malformed(std::string(what) + " is not a string");
    }
    return value.text;
}

// A number stored as a hash field comes back as a string; nil (a field missing) is 0.
std::int64_t number_of(const RespValue& value, const char* what) {
    if (value.type == RespValue::Type::integer) return value.integer;
    if (value.type == RespValue::Type::nil) return 0;
    const std::string& text = text_of(value, what);
    std::int64_t number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size()) {
        malformed(std::string(what) + " is not a number: " + text);
    }
    return number;
}

// A holder's pid, fence or start time: fields that any client of the server can write, so a
// value that is not a number (or is negative) is "unknown" (0), never a failure: a waiter still
// waits, and `status` and `release --force` still work on such a lock.
std::int64_t holder_number(const RespValue& value) {
    std::int64_t number = 0;
    if (value.type == RespValue::Type::integer) {
        number = value.integer;
    } else if (value.type == RespValue::Type::string || value.type == RespValue::Type::status) {
        const std::string& text = value.text;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error != std::errc() || end != text.data() + text.size()) return 0;
    }
    return std::max<std::int64_t>(0, number);
}

std::string optional_text(const RespValue& value) {
    return value.type == RespValue::Type::nil ? std::string() : value.text;
}

AcquireReply found_record(const RespValue& record, bool shared, const RecordSeal& seal,
                          RecordNames names) {
    auto decoded =
        seal.open(text_of(record, "record"), shared ? names.last : names.out, names.now_unix_ms);
    if (auto* unreadable = std::get_if<UnreadableRecord>(&decoded)) {
        return AcquireReply{std::nullopt, unreadable->reason};
    }
    return AcquireReply{
        Acquisition{ResultFound{std::move(std::get<CachedResult>(decoded)), shared}, std::nullopt},
        std::nullopt};
}

}  // namespace

AcquireReply parse_check_and_acquire_reply(const RespValue& reply, const RecordSeal& seal,
                                           RecordNames names) {
    throw_if_error(reply);
    if (reply.type != RespValue::Type::array || reply.elements.empty()) {
        malformed("check-and-acquire did not return an array");
    }
    const std::vector<RespValue>& e = reply.elements;
    const std::string& kind = text_of(e[0], "reply kind");
    if (kind == "hit" && e.size() == 2) return found_record(e[1], false, seal, names);
    if (kind == "shared" && e.size() == 2) return found_record(e[1], true, seal, names);
    if (kind == "acquired" && e.size() == 2) {
        LockAcquired acquired{static_cast<std::uint64_t>(number_of(e[1], "fence"))};
        return AcquireReply{Acquisition{acquired, std::nullopt}, std::nullopt};
    }
    if (kind == "n" && e.size() == 2) {
        AcquireReply reply;
        reply.max_holders_in_force = optional_text(e[1]);
        return reply;
    }
    if (kind == "held" && (e.size() == 8 || e.size() == 9)) {
        LockHeld held;
        std::int64_t pttl = number_of(e[1], "lease left");
        // -1: a lock without expiry (made by hand); wait for its release or --wait.
        held.lease_left = pttl < 0 ? (pttl == -1 ? k_infinite : Millis(0)) : Millis(pttl);
        held.fence = static_cast<std::uint64_t>(holder_number(e[2]));
        held.holder.host = optional_text(e[3]);
        held.holder.pid = holder_number(e[4]);
        held.holder.user = optional_text(e[5]);
        held.holder.command = optional_text(e[6]);
        held.holder.started_unix_ms = holder_number(e[7]);
        held.live = e.size() == 9 && optional_text(e[8]) == "1";
        return AcquireReply{Acquisition{held, std::nullopt}, std::nullopt};
    }
    malformed("check-and-acquire returned '" + kind + "' with " + std::to_string(e.size()) +
              " elements");
}

void reject_foreign_shared_outcome(AcquireReply& reply,
                                   const std::optional<std::uint64_t>& waited_for_fence) {
    if (!reply.acquisition) return;
    const auto* found = std::get_if<ResultFound>(&reply.acquisition->outcome);
    if (found == nullptr || !found->shared_outcome) return;
    // Fence 0: a record that does not say (lockrun 0.1's format).
    if (found->result.fence == 0 ||
        (waited_for_fence && found->result.fence == *waited_for_fence)) {
        return;
    }
    reply = AcquireReply{std::nullopt, "the outcome shared under :last is not the run waited for"};
}

KeyStatus parse_status_reply(const RespValue& reply, const RecordSeal& seal, RecordNames names) {
    return parse_named_status_reply(reply, seal, names).status;
}

NamedStatus parse_named_status_reply(const RespValue& reply, const RecordSeal& seal,
                                     RecordNames names) {
    throw_if_error(reply);
    // 10 elements from lockrun 0.2 before semaphores; then N and the semaphore's holders.
    if (reply.type != RespValue::Type::array || reply.elements.size() < 10) {
        malformed("status did not return 10 elements or more");
    }
    const std::vector<RespValue>& e = reply.elements;
    KeyStatus status;
    std::int64_t lock_pttl = number_of(e[0], "lease left");
    if (lock_pttl != -2) {
        LockHeld held;
        held.lease_left = lock_pttl < 0 ? k_infinite : Millis(lock_pttl);
        held.fence = static_cast<std::uint64_t>(holder_number(e[1]));
        held.holder.host = optional_text(e[2]);
        held.holder.pid = holder_number(e[3]);
        held.holder.user = optional_text(e[4]);
        held.holder.command = optional_text(e[5]);
        held.holder.started_unix_ms = holder_number(e[6]);
        status.holder = held;
    }
    if (e[7].type == RespValue::Type::string) {
        std::int64_t out_pttl = number_of(e[8], "result ttl");
        status.stored =
            StoredResult{seal.open(e[7].text, names.out, names.now_unix_ms),
                         out_pttl < 0 ? k_infinite : Millis(out_pttl), e[7].text.size()};
    }
    if (e.size() > 10 && e[10].type == RespValue::Type::string) {
        status.shared = e[10].text == "shared";
        status.max_holders = static_cast<int>(std::max<std::int64_t>(1, holder_number(e[10])));
        for (std::size_t i = 11; i < e.size(); ++i) {
            const RespValue& h = e[i];
            if (h.type != RespValue::Type::array || h.elements.size() != 7) {
                malformed("a semaphore holder is not 7 elements");
            }
            LockHeld held;
            held.lease_left = Millis(std::max<std::int64_t>(0, number_of(h.elements[0], "lease")));
            held.fence = static_cast<std::uint64_t>(holder_number(h.elements[1]));
            held.holder.host = optional_text(h.elements[2]);
            held.holder.pid = holder_number(h.elements[3]);
            held.holder.user = optional_text(h.elements[4]);
            held.holder.command = optional_text(h.elements[5]);
            held.holder.started_unix_ms = holder_number(h.elements[6]);
            status.holders.push_back(std::move(held));
        }
        if (!status.holder && !status.holders.empty()) status.holder = status.holders.front();
    } else if (status.holder) {
        status.holders.push_back(*status.holder);
    }
    NamedStatus named{std::move(status), std::nullopt};
    if (named.status.holder && e[9].type == RespValue::Type::string) {
        named.recorded_key = e[9].text;
    }
    return named;
}

bool parse_renew_reply(const RespValue& reply) {
    throw_if_error(reply);
    if (reply.type != RespValue::Type::integer) malformed("renew did not return a number");
    return reply.integer == 1;
}

bool parse_finish_reply(const RespValue& reply) {
    throw_if_error(reply);
    if (reply.type != RespValue::Type::integer) malformed("finish did not return a number");
    return reply.integer == 1;
}

ScanReply parse_scan_reply(const RespValue& reply) {
    throw_if_error(reply);
    if (reply.type != RespValue::Type::array || reply.elements.size() != 2 ||
        reply.elements[1].type != RespValue::Type::array) {
        malformed("SCAN did not return a cursor and an array");
    }
    ScanReply scan;
    scan.cursor = text_of(reply.elements[0], "SCAN cursor");
    if (scan.cursor.empty() || scan.cursor.find_first_not_of("0123456789") != std::string::npos) {
        malformed("SCAN cursor is not a number: " + scan.cursor);
    }
    scan.keys.reserve(reply.elements[1].elements.size());
    for (const RespValue& key : reply.elements[1].elements) {
        scan.keys.push_back(text_of(key, "SCAN key"));
    }
    return scan;
}

}  // namespace lockrun
