#include "exec/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "exec/child_process.hpp"
#include "exec/group_watcher.hpp"
#include "exec/output_relay.hpp"

namespace lockrun {
namespace {

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
};

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw InternalError(std::string("pipe: ") + std::strerror(errno));
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Collects poll(2) entries and remembers which slot belongs to which source.
class PollSet {
public:
    int add(int fd, short events) {
        if (fd < 0) return -1;
        fds_.push_back({fd, events, 0});
        return static_cast<int>(fds_.size()) - 1;
    }
    bool ready(int slot) const { return slot >= 0 && fds_[slot].revents != 0; }
    void wait(Deadline deadline) {
        int rc = ::poll(fds_.data(), fds_.size(), deadline.poll_timeout_ms());
        if (rc < 0 && errno != EINTR) {
            throw InternalError(std::string("poll: ") + std::strerror(errno));
        }
    }

private:
    std::vector<pollfd> fds_;
};

}  // namespace

RunReport Supervisor::run(const CommandSpec& command, LeaseKeeper& lease, const RunPolicy& policy) {
    RunReport report;
    Capture capture;
    capture.enabled = policy.capture;
    capture.limit = policy.capture_limit;
    Pipe stdout_pipe = make_pipe();
    std::optional<Pipe> stderr_pipe;
    if (policy.capture_stderr) stderr_pipe = make_pipe();

    Clock::time_point started = Clock::now();
    // Declared before the command, so destroyed after it: a command still running when we
    // unwind is killed by ChildProcess, and only then is its watcher stopped.
    GroupWatcher watcher = GroupWatcher::start();
    auto started_child = ChildProcess::spawn(
        {command.argv, command.extra_environment, command.removed_environment,
         signals_.original_mask(), stdout_pipe.write_end.get(),
         stderr_pipe ? stderr_pipe->write_end.get() : -1, watcher.group(), command.inherited_fd});
    if (auto* failure = std::get_if<StartFailure>(&started_child)) {
        report.start_failure = std::move(*failure);
        return report;
    }
    std::optional<ChildProcess> child(std::move(std::get<ChildProcess>(started_child)));
    // Only the command holds the write ends now: its exit (and its children's) ends the
    // output.
    stdout_pipe.write_end.reset();
    std::vector<OutputRelay> relays;
    relays.emplace_back(std::move(stdout_pipe.read_end), STDOUT_FILENO, OutputStream::stdout_stream,
                        capture);
    if (stderr_pipe) {
        stderr_pipe->write_end.reset();
        relays.emplace_back(std::move(stderr_pipe->read_end), STDERR_FILENO,
                            OutputStream::stderr_stream, capture);
    }

    std::optional<ChildProcess::Ending> ending;
    Deadline drain_deadline = Deadline::never();
    Deadline kill_deadline = Deadline::never();
    bool relays_done = false;
    while (!ending || !relays_done) {
        PollSet poll_set;
        int signal_slot = poll_set.add(signals_.fd(), POLLIN);
        int lease_slot = poll_set.add(lease.poll_fd(), POLLIN);
        std::vector<std::pair<int, int>> relay_slots;
        for (OutputRelay& relay : relays) {
            relay_slots.emplace_back(
                relay.wants_read() ? poll_set.add(relay.source_fd(), POLLIN) : -1,
                relay.wants_write() ? poll_set.add(relay.destination_fd(), POLLOUT) : -1);
        }
        poll_set.wait(earliest(earliest(lease.next_wakeup(), kill_deadline), drain_deadline));

        if (poll_set.ready(signal_slot)) {
            while (std::optional<int> signal_number = signals_.take_signal()) {
                if (*signal_number == SIGCHLD) continue;
                child->signal_group(*signal_number);
                report.forwarded_signal = *signal_number;
            }
        }
        if (!ending) {
            ending = child->try_reap();
            if (ending) {
                drain_deadline = Deadline::after(k_output_drain);
                report.ended_in_lease = lease.valid_now();
            }
        }

        bool was_lost = lease.lost();
        if (poll_set.ready(lease_slot) || lease.next_wakeup().passed()) lease.on_wakeup();
        if (lease.lost() && !was_lost) {
            report.lock_lost = lease.loss_reason();
            if (!ending && policy.on_lock_lost != OnLockLost::ignore) {
                report.stopped_for_lock_loss = true;
                if (policy.on_lock_lost == OnLockLost::kill) {
                    child->signal_group(SIGKILL);
                } else {
                    child->signal_group(SIGTERM);
                    kill_deadline = Deadline::after(policy.kill_after);
                }
            }
        }
        if (kill_deadline.passed()) {
            if (!ending) child->signal_group(SIGKILL);
            kill_deadline = Deadline::never();
        }

        for (std::size_t i = 0; i < relays.size(); ++i) {
            if (poll_set.ready(relay_slots[i].first)) relays[i].read_source();
            if (poll_set.ready(relay_slots[i].second)) relays[i].write_destination();
        }
        if (drain_deadline.passed()) {
            for (OutputRelay& relay : relays) relay.close_source();
            // What was read is still written out, at the reader's pace, without spinning.
            drain_deadline = Deadline::never();
        }
        relays_done = true;
        for (const OutputRelay& relay : relays) relays_done = relays_done && relay.done();
    }

    report.exit_status = ending->exit_status;
    report.killed_by_signal = ending->signal;
    report.duration = std::chrono::duration_cast<Millis>(Clock::now() - started);
    report.output = std::move(capture.chunks);
    report.output_over_limit = capture.over_limit;
    return report;
}

}  // namespace lockrun
