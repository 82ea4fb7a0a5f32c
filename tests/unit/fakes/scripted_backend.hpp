#pragma once
// Fakes of core's interfaces for the tests of the algorithm and the lease keeper: a Backend
// whose answers the test scripts and whose calls it records, a CommandRunner that runs
// nothing and returns a scripted report, SharedFiles that touch no disk, and a Reporter
// that records what the user would read.

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/backend.hpp"
#include "core/command_runner.hpp"
#include "core/errors.hpp"
#include "core/reporter.hpp"
#include "core/shared_files.hpp"
#include "util/zstd_stream.hpp"

namespace lockrun::fakes {

class ScriptedBackend : public Backend {
public:
    struct Unavailable {
        std::string message;
    };
    struct NotStored {
        std::string message;
    };

    // ---- Steps 1-2: each check_and_acquire() gives the next answer, `delay` after it was
    // asked; the last answer is given again and again. A wait ends at once while an answer
    // not yet given is scripted (a holder released), else at its deadline (nobody did).
    struct AcquireAnswer {
        Acquisition acquisition;
        std::optional<std::string> unavailable{};  // thrown as BackendUnavailable instead
        Millis delay{0};
    };
    std::deque<AcquireAnswer> acquisitions;
    std::vector<AcquireRequest> acquire_requests;
    std::vector<Deadline> waits;
    std::optional<int> wait_interrupted_by;  // a signal that ends every wait
    // Every call by name, in order: "acquire", "prepare", "wait", "renew_now", "finish",
    // "abandon".
    std::vector<std::string> calls;

    // ---- Renewals, for the lease keeper: every send is recorded (or fails, when the test
    // queued a failure), and each take_renewal_reply() answers with the next scripted reply
    // (nullopt when none is queued: the reply is still on its way). With `answers_at_once`,
    // a verdict is ready as soon as the renewal is sent, as with the local backend;
    // otherwise replies queued before the send wait for the next look.
    static constexpr int k_fd = 1234;
    struct Renewal {
        std::string token;
        Millis lease;
        Deadline deadline;
    };
    using Reply = std::variant<bool, Unavailable>;
    bool answers_at_once = false;
    std::vector<Renewal> renewals;                 // sends that succeeded
    int send_attempts = 0;                         // including those that failed
    std::deque<std::string> send_failures;         // the next sends throw these
    std::optional<std::string> every_send_fails;   // all sends throw this
    std::deque<Reply> replies;                     // the next replies
    std::optional<std::string> every_reply_fails;  // all replies throw this (once sent)
    bool renew_now_confirms = true;

    // ---- Steps 4 and after.
    std::variant<bool, Unavailable, NotStored> finish_answer = true;
    std::vector<FinishRequest> finishes;
    std::vector<std::string> abandoned;  // the tokens
    int command_fd = -1;                 // descriptor_for_command()
    bool failover_possible = false;      // !lease_proves_exclusion()

    Acquisition check_and_acquire(const AcquireRequest& request) override {
        calls.emplace_back("acquire");
        acquire_requests.push_back(request);
        if (acquisitions.empty()) throw std::logic_error("no acquisition scripted");
        AcquireAnswer next = acquisitions.front();
        if (acquisitions.size() > 1) {
            acquisitions.pop_front();
        } else {
            script_ran_out_ = true;
        }
        std::this_thread::sleep_for(next.delay);
        if (next.unavailable) throw BackendUnavailable(*next.unavailable);
        return next.acquisition;
    }
    bool lease_proves_exclusion() const override { return !failover_possible; }
    void prepare_to_wait() override { calls.emplace_back("prepare"); }
    void wait_for_release(Deadline deadline) override {
        calls.emplace_back("wait");
        waits.push_back(deadline);
        if (wait_interrupted_by) throw Interrupted(*wait_interrupted_by);
        if (!script_ran_out_) return;
        // Bounded, so that a test whose script runs out cannot hang.
        std::this_thread::sleep_until(std::min(deadline.at(), Clock::now() + Millis(5000)));
    }

    void send_renewal(const std::string& token, Millis lease, Deadline deadline) override {
        ++send_attempts;
        if (every_send_fails) throw BackendUnavailable(*every_send_fails);
        if (!send_failures.empty()) {
            std::string message = send_failures.front();
            send_failures.pop_front();
            throw BackendUnavailable(message);
        }
        renewals.push_back({token, lease, deadline});
        pending_ = true;
        readable_ = answers_at_once;
    }
    int renewal_fd() const override { return pending_ ? k_fd : -1; }
    std::optional<bool> take_renewal_reply() override {
        if (!pending_) return std::nullopt;
        // The keeper may look right after sending; a remote reply is not there yet.
        if (!readable_) {
            readable_ = true;
            return std::nullopt;
        }
        if (every_reply_fails) {
            pending_ = false;
            throw BackendUnavailable(*every_reply_fails);
        }
        if (replies.empty()) return std::nullopt;
        Reply reply = replies.front();
        replies.pop_front();
        pending_ = false;
        if (auto* unavailable = std::get_if<Unavailable>(&reply)) {
            throw BackendUnavailable(unavailable->message);
        }
        return std::get<bool>(reply);
    }
    bool renew_now(const std::string&, Millis) override {
        calls.emplace_back("renew_now");
        return renew_now_confirms;
    }

    bool finish(const FinishRequest& request) override {
        calls.emplace_back("finish");
        finishes.push_back(request);
        if (auto* unavailable = std::get_if<Unavailable>(&finish_answer)) {
            throw BackendUnavailable(unavailable->message);
        }
        if (auto* not_stored = std::get_if<NotStored>(&finish_answer)) {
            throw ResultNotStored(not_stored->message);
        }
        return std::get<bool>(finish_answer);
    }
    void abandon(const std::string& token) noexcept override {
        calls.emplace_back("abandon");
        abandoned.push_back(token);
    }
    int descriptor_for_command() const override { return command_fd; }

    // ---- Following (SPEC §1): follow_live() gives a feed of `live_events`, in order, then
    // nothing (at the deadline it was given); its run goes on for its first `holder_reads`
    // looks, then it has let go of the key. publish_live()
    // gives a publisher that records what it is given.
    std::deque<LiveEvent> live_events;
    std::vector<std::uint64_t> live_offsets;  // of every next() of the feed
    bool can_follow = true;
    int holder_reads = 1'000'000;
    std::vector<LockHeld> followed;
    std::vector<OutputChunk> published;
    bool publishing_stops = false;             // the publisher gives up at its first piece
    std::optional<std::size_t> flushed_after;  // that many calls were made when it flushed

    class Feed : public LiveFeed {
    public:
        explicit Feed(ScriptedBackend& backend) : backend_(backend) {}
        LiveEvent next(std::uint64_t offset, Deadline deadline) override {
            backend_.live_offsets.push_back(offset);
            if (backend_.live_events.empty()) {
                std::this_thread::sleep_until(
                    std::min(deadline.at(), Clock::now() + std::chrono::seconds(2)));
                return LiveNothingYet{};
            }
            LiveEvent event = std::move(backend_.live_events.front());
            backend_.live_events.pop_front();
            return event;
        }
        bool run_goes_on() override { return backend_.holder_reads-- > 0; }

    private:
        ScriptedBackend& backend_;
    };
    class Publisher : public LivePublisher {
    public:
        explicit Publisher(ScriptedBackend& backend) : backend_(backend) {}
        bool wants_bytes() const override { return publishing_; }
        void publish(OutputStream stream, std::string_view bytes) override {
            if (backend_.publishing_stops) publishing_ = false;
            if (!publishing_) return;
            backend_.published.push_back({stream, std::string(bytes)});
            total_ += bytes.size();
        }
        std::optional<std::uint64_t> published_total() const override {
            return publishing_ ? std::optional(total_) : std::nullopt;
        }
        void flush(Deadline) noexcept override { backend_.flushed_after = backend_.calls.size(); }

    private:
        ScriptedBackend& backend_;
        bool publishing_ = true;
        std::uint64_t total_ = 0;
    };
    bool follows_live() const override { return true; }
    std::unique_ptr<LiveFeed> follow_live(const LockHeld& held) override {
        calls.emplace_back("follow");
        followed.push_back(held);
        return can_follow ? std::make_unique<Feed>(*this) : nullptr;
    }
    std::unique_ptr<LivePublisher> publish_live(std::uint64_t, Millis) override {
        return std::make_unique<Publisher>(*this);
    }
    KeyStatus read_status() override { throw std::logic_error("not used by the algorithm"); }
    bool drop_stored_result() override { throw std::logic_error("not used by the algorithm"); }
    bool force_release() override { throw std::logic_error("not used by the algorithm"); }
    bool claim_refresh(Millis) override {
        calls.emplace_back("claim_refresh");
        return true;
    }
    std::vector<ListedKey> list_keys() override {
        throw std::logic_error("not used by the algorithm");
    }

private:
    bool script_ran_out_ = false;
    bool pending_ = false;
    bool readable_ = false;
};

// Runs nothing: records what it was asked to run and returns `report` (by default exit 0,
// ended within its lease); `during_run` acts while the "command runs" (drives the lease
// keeper, throws).
class ScriptedRunner : public CommandRunner {
public:
    ScriptedRunner() { report.ended_in_lease = true; }
    RunReport report;
    std::function<void(LeaseKeeper&)> during_run;
    std::vector<CommandSpec> commands;
    std::vector<RunPolicy> policies;

    RunReport run(const CommandSpec& command, LeaseKeeper& lease,
                  const RunPolicy& policy) override {
        commands.push_back(command);
        policies.push_back(policy);
        if (during_run) during_run(lease);
        // What a supervisor's relays hand the live feed as the command writes it.
        if (policy.live) {
            for (const OutputChunk& chunk : report.output) {
                if (policy.live->wants_bytes()) policy.live->publish(chunk.stream, chunk.bytes);
            }
        }
        return report;
    }
};

// --files without a disk: archive() returns `archived` (by default a frame of a few bytes,
// which a record's decoder accepts), extract() returns `extracted`; both record their calls.
class ScriptedFiles : public SharedFiles {
public:
    ScriptedFiles() {
        ZstdCompressor compressor;
        compressor.add("a tar archive", archived.archive);
        compressor.finish(archived.archive);
        archived.archive_bytes = 13;
    }
    ArchivedFiles archived;
    ExtractedFiles extracted;
    std::vector<std::pair<std::vector<std::string>, std::uint64_t>> archive_calls;
    std::vector<CachedResult> extract_calls;

    // Acts during the call: drives the keep-alive, or looks at what was replayed so far.
    std::function<void(const std::function<void()>& keep_alive)> while_archiving;
    std::function<void()> while_extracting;

    ArchivedFiles archive(const std::vector<std::string>& paths, std::uint64_t room,
                          const std::function<void()>& keep_alive) override {
        archive_calls.emplace_back(paths, room);
        if (while_archiving) while_archiving(keep_alive);
        return archived;
    }
    ExtractedFiles extract(const CachedResult& result) override {
        extract_calls.push_back(result);
        if (while_extracting) while_extracting();
        return extracted;
    }
};

class RecordingReporter : public Reporter {
public:
    std::vector<std::string> warnings, notices, infos, debugs;
    // Every line's fields, by its message; and the context added so far.
    std::map<std::string, LogFields> fields;
    std::map<std::string, LogValue, std::less<>> context;
    std::vector<OutputChunk> replayed;
    std::vector<OutputChunk> printed_live;

    void warn(const std::string& message, const LogFields& f) override {
        record(warnings, message, f);
    }
    void notice(const std::string& message, const LogFields& f) override {
        record(notices, message, f);
    }
    void info(const std::string& message, const LogFields& f) override {
        record(infos, message, f);
    }
    void debug(const std::string& message, const LogFields& f) override {
        record(debugs, message, f);
    }
    void add_context(std::string_view name, LogValue value) override {
        context[std::string(name)] = std::move(value);
    }
    std::string replay(const CachedResult& result) override {
        return for_each_output_piece(result, [&](OutputStream stream, std::string_view bytes) {
            replayed.push_back({stream, std::string(bytes)});
        });
    }
    void print_live(OutputStream stream, std::string_view bytes) override {
        printed_live.push_back({stream, std::string(bytes)});
    }

private:
    void record(std::vector<std::string>& level, const std::string& message, const LogFields& f) {
        level.push_back(message);
        fields[message] = f;
    }
};

}  // namespace lockrun::fakes
