#include "backend/local/live_wake_word.hpp"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <ctime>

namespace lockrun {
namespace {

constexpr std::size_t k_mapped_bytes = 4096;  // the header is within it, whatever the page size
constexpr std::size_t k_wake_word_at = 32;

long futex(std::uint32_t* word, int op, std::uint32_t value, const timespec* timeout) {
    return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}

}  // namespace

LiveWakeWord::LiveWakeWord(int fd, bool writable) {
    void* page = ::mmap(nullptr, k_mapped_bytes, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                        MAP_SHARED, fd, 0);
    if (page != MAP_FAILED) page_ = page;
}

LiveWakeWord::~LiveWakeWord() {
    if (page_ != nullptr) ::munmap(page_, k_mapped_bytes);
}

std::uint32_t* LiveWakeWord::word() const {
    return reinterpret_cast<std::uint32_t*>(static_cast<char*>(page_) + k_wake_word_at);
}

std::uint32_t LiveWakeWord::load() const {
    return std::atomic_ref<std::uint32_t>(*word()).load(std::memory_order_acquire);
}

void LiveWakeWord::wake_all() noexcept {
    if (page_ == nullptr) return;  // its followers find each frame at their next look
    std::atomic_ref<std::uint32_t>(*word()).fetch_add(1, std::memory_order_release);
    // Shared, not FUTEX_PRIVATE: the waiters are other processes.
    futex(word(), FUTEX_WAKE, INT_MAX, nullptr);
}

void LiveWakeWord::wait_while(std::uint32_t seen, Millis timeout) const {
    const auto ms = timeout.count();
    const timespec relative{static_cast<time_t>(ms / 1000),
                            static_cast<long>(ms % 1000) * 1'000'000};
    // EAGAIN (the count moved on), ETIMEDOUT and EINTR (a signal) all mean: look again.
    futex(word(), FUTEX_WAIT, seen, timeout == k_infinite ? nullptr : &relative);
}

}  // namespace lockrun
