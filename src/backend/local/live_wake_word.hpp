#pragma once
// The wake-up of a run's local followers (live_file.hpp): a 32-bit count at byte 32 of the
// live file's header, in a shared mapping of the file's first page. The holder adds one
// for every frame it writes and wakes the followers waiting on it with futex(2), which
// works across processes on a file mapping. A follower waits there instead of on an
// inotify instance: a user has only 128 of those (fs.inotify.max_user_instances), and
// closing one waits for the kernel to retire its watch, 8-24 ms at the end of a stampede.
#include <cstdint>

#include "util/duration.hpp"

namespace lockrun {

class LiveWakeWord {
public:
    // Maps the first page of the live file `fd` (writable: the holder's). Not valid() when
    // it cannot be mapped.
    LiveWakeWord(int fd, bool writable);
    ~LiveWakeWord();
    LiveWakeWord(const LiveWakeWord&) = delete;
    LiveWakeWord& operator=(const LiveWakeWord&) = delete;

    bool valid() const { return page_ != nullptr; }
    // The count now. A follower reads it before it looks at the file: a frame written after
    // that look changes it, and the wait below then returns at once.
    std::uint32_t load() const;
    // The holder, after a frame is written: counts it and wakes every follower waiting.
    void wake_all() noexcept;
    // Returns when the count is no longer `seen`, after `timeout` at the latest (never:
    // k_infinite), or sooner: a wake-up for another change, a signal let through.
    void wait_while(std::uint32_t seen, Millis timeout) const;

private:
    std::uint32_t* word() const;

    void* page_ = nullptr;
};

}  // namespace lockrun
