#include "core/follow_run.hpp"

#include <variant>

#include "core/exit_code.hpp"
#include "core/holder_text.hpp"

namespace lockrun {
namespace {

// How often a follower that hears nothing looks whether the run still holds its lock: a
// holder that died publishes no end.
constexpr Millis k_holder_check{1000};

// Whether the run `held` still holds the key.
bool still_held(Backend& backend, const LockHeld& held) {
    KeyStatus status = backend.read_status();
    return status.holder && status.holder->fence == held.fence;
}

std::string printed_text(std::uint64_t printed) {
    return std::to_string(printed) + (printed == 1 ? " byte" : " bytes");
}

}  // namespace

FollowResult follow_run(const std::string& key, const LockHeld& held, LiveFeed& feed,
                        Backend& backend, Deadline wait_deadline, Reporter& reporter) {
    const std::string run =
        "the run of " + holder_text(held.holder) + " (fence " + std::to_string(held.fence) + ")";
    std::uint64_t printed = 0;
    bool released = false;  // the run no longer holds the key: what it published is all
    Deadline next_check = Deadline::after(k_holder_check);
    for (;;) {
        // Once the run has let go, everything it published is there: read without waiting.
        Deadline until =
            released ? Deadline::after(Millis(0)) : earliest(wait_deadline, next_check);
        LiveEvent event = feed.next(printed, until);
        if (auto* piece = std::get_if<LivePiece>(&event)) {
            if (printed == 0) reporter.info(key + ": following " + run + " live");
            reporter.print_live(piece->stream, piece->bytes);
            printed += piece->bytes.size();
            continue;
        }
        if (auto* end = std::get_if<LiveEnd>(&event)) {
            if (printed == 0 && !end->has_outcome) {
                return CannotFollow{run + " ended without an outcome to share"};
            }
            if (end->total_bytes == printed) return FollowedToEnd{*end};
            event = LiveGap{};  // the end says more was published than this caller read
        }
        const bool gap = std::holds_alternative<LiveGap>(event);
        if (gap || released) {
            if (printed == 0) {
                return CannotFollow{gap ? "the output of " + run + " so far is no longer kept"
                                        : run + " ended without publishing its end"};
            }
            if (gap) {
                return FollowBroken{
                    exit_code::k_fell_behind,
                    "fell behind " + run + " of " + key + ": after " + printed_text(printed) +
                        " of its output, the next bytes are no longer kept (a reader slower "
                        "than the run by more than " +
                        std::to_string(k_live_window_bytes >> 20) +
                        " MiB); stopped here rather than print it torn"};
            }
            return FollowBroken{exit_code::k_lock_lost,
                                run + " of " + key + " ended without an outcome after " +
                                    printed_text(printed) +
                                    " of its output: it lost its lock, or its lockrun died"};
        }
        if (wait_deadline.passed()) return FollowWaitOver{printed};
        if (next_check.passed()) {
            released = !still_held(backend, held);
            next_check = Deadline::after(k_holder_check);
        }
    }
}

}  // namespace lockrun
