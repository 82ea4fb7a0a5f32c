#include "core/follow_run.hpp"

#include <variant>

#include "core/errors.hpp"
#include "core/exit_code.hpp"
#include "core/holder_text.hpp"

namespace lockrun {
namespace {

// How often a follower that hears nothing looks whether the run still holds its lock: a
// holder that died publishes no end.
constexpr Millis k_holder_check{1000};

std::string printed_text(std::uint64_t printed) {
    return std::to_string(printed) + (printed == 1 ? " byte" : " bytes");
}

}  // namespace

FollowResult follow_run(const std::string& key, const LockHeld& held, LiveFeed& feed,
                        Deadline wait_deadline, Reporter& reporter) {
    const std::string run = run_text(held);
    std::uint64_t printed = 0;
    bool released = false;  // the run no longer holds the key: what it published is all
    Deadline next_check = Deadline::after(k_holder_check);
    for (;;) {
        // --wait bounds the follow too, however fast the output comes (SPEC §1: a waiter that
        // reaches it exits 75 after what it printed).
        if (wait_deadline.passed()) return FollowWaitOver{printed};
        // Once the run has let go, everything it published is there: read without waiting.
        Deadline until =
            released ? Deadline::after(Millis(0)) : earliest(wait_deadline, next_check);
        LiveEvent event;
        try {
            event = feed.next(printed, until);
            if (!released && std::holds_alternative<LiveNothingYet>(event) && next_check.passed()) {
                next_check = Deadline::after(k_holder_check);
                // Gone: its end, if it wrote one, went in before; one more read finds it.
                if (!feed.run_goes_on()) {
                    released = true;
                    continue;
                }
            }
        } catch (const BackendUnavailable& e) {
            // Nothing printed yet: the caller waits as one that does not follow, which may
            // ride out a failover (SPEC §8) or run unguarded (--on-backend-error run).
            if (printed == 0) return CannotFollow{std::string("following failed: ") + e.what()};
            throw;
        }
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
            if (end->output_cut) {
                // A part of the output, with the status of a command cut off: not the run's.
                return FollowBroken{
                    exit_code::k_output_incomplete,
                    "the output of " + run + " of " + key + " was cut off after " +
                        printed_text(printed) +
                        ": the reader of its holder's output went away, which stopped the "
                        "command (SIGPIPE; exit " +
                        std::to_string(end->exit_status) + "); nothing was stored"};
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
                    exit_code::k_output_incomplete,
                    "fell behind " + run + " of " + key + ": after " + printed_text(printed) +
                        " of its output, the next bytes are no longer kept (this caller read "
                        "more than " +
                        std::to_string(k_live_window_bytes >> 20) +
                        " MiB slower than the run wrote, or the run could not publish them); "
                        "stopped here rather than print it torn"};
            }
            return FollowBroken{exit_code::k_lock_lost,
                                run + " of " + key + " ended without an outcome after " +
                                    printed_text(printed) +
                                    " of its output: it lost its lock, or its lockrun died"};
        }
    }
}

}  // namespace lockrun
