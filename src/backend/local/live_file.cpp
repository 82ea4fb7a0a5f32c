#include "backend/local/live_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backend/local/byte_range.hpp"
#include "backend/local/live_wake_word.hpp"
#include "core/errors.hpp"
#include "util/little_endian.hpp"

namespace lockrun {
namespace {

constexpr std::string_view k_live_magic{"lockrun-live\n\0\0\0", 16};
constexpr std::uint64_t k_live_header_bytes = 64;
constexpr std::uint64_t k_live_kept_from_at = 24;
constexpr std::size_t k_live_frame_header_bytes = 16;
constexpr std::uint32_t k_live_end_bytes = 16;
// No frame is larger: a relay reads at most 128 KiB at once. A longer one is damage.
constexpr std::uint32_t k_live_max_payload = 16 << 20;

enum class FrameKind : std::uint8_t { stdout_piece = 1, stderr_piece = 2, end = 3 };

std::string frame_header(FrameKind kind, std::uint32_t length, std::uint64_t offset) {
    std::string header;
    header.push_back(static_cast<char>(kind));
    header.append(3, '\0');
    append_little_endian(header, length);
    append_little_endian(header, offset);
    return header;
}

bool write_at(int fd, std::string_view bytes, std::uint64_t at) {
    while (!bytes.empty()) {
        ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
        at += static_cast<std::uint64_t>(n);
    }
    return true;
}

// Up to `size` bytes at `at`: fewer when the file is shorter (a frame still being written).
std::string read_at(int fd, std::size_t size, std::uint64_t at) {
    std::string bytes(size, '\0');
    std::size_t have = 0;
    while (have < size) {
        ssize_t n = ::pread(fd, bytes.data() + have, size - have, static_cast<off_t>(at + have));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += static_cast<std::size_t>(n);
    }
    bytes.resize(have);
    return bytes;
}

// A follower's read lock of the byte at `at`, the first it has still to read: one byte, so
// that the lock of a follower the holder has dropped lies below the window, out of sight.
bool set_read_lock(int fd, short type, std::uint64_t at) {
    struct flock lock = byte_range(type, static_cast<off_t>(at));
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

bool write_u64_at(int fd, std::uint64_t value, std::uint64_t at) {
    std::string bytes;
    append_little_endian(bytes, value);
    return write_at(fd, bytes, at);
}

struct Header {
    std::uint64_t fence = 0;
    std::uint64_t kept_from = 0;
};

std::optional<Header> read_header(int fd) {
    std::string bytes = read_at(fd, k_live_kept_from_at + 8, 0);
    std::string_view rest(bytes);
    if (!rest.starts_with(k_live_magic)) return std::nullopt;
    rest.remove_prefix(k_live_magic.size());
    Header header;
    if (!take_little_endian(rest, header.fence) || !take_little_endian(rest, header.kept_from)) {
        return std::nullopt;
    }
    return header;
}

class LiveFileFeed : public LiveFeed {
public:
    LiveFileFeed(UniqueFd file, std::uint64_t fence, InterruptSource* interrupt)
        : file_(std::move(file)), wake_(file_.get(), false), fence_(fence), interrupt_(interrupt) {}

    bool can_wait() const { return wake_.valid(); }

    bool run_goes_on() override {
        // The holder's write lock of the file's first byte goes with its lockrun: at the
        // release, or at its death.
        struct flock probe = byte_range(F_RDLCK, 0);
        return ::fcntl(file_.get(), F_OFD_GETLK, &probe) == 0 && probe.l_type == F_WRLCK;
    }

    LiveEvent next(std::uint64_t offset, Deadline deadline) override {
        for (;;) {
            // Read before the look: a frame written after it has changed the count.
            const std::uint32_t seen = wake_.load();
            if (std::optional<LiveEvent> event = read_frame(offset)) return std::move(*event);
            do {
                if (deadline.passed()) return LiveNothingYet{};
                auto wait = [&] { wake_.wait_while(seen, deadline.left()); };
                if (interrupt_ == nullptr) {
                    wait();
                } else {
                    interrupt_->interruptible(wait);
                    interrupt_->throw_if_interrupted();
                }
            } while (wake_.load() == seen);
        }
    }

private:
    // Whether the frame read at `pos_` is still this run's, whole: the holder sets
    // kept_from past a frame before it punches that frame out.
    bool still_kept() const {
        std::optional<Header> header = read_header(file_.get());
        return header && header->fence == fence_ && header->kept_from <= pos_;
    }

    // The frame at pos_, when it is all there; a gap when it is not kept, or damaged.
    std::optional<LiveEvent> read_frame(std::uint64_t offset) {
        if (!still_kept()) return LiveGap{};
        std::string head = read_at(file_.get(), k_live_frame_header_bytes, pos_);
        if (head.size() < k_live_frame_header_bytes) return std::nullopt;
        std::string_view rest(head);
        std::uint8_t kind_byte = 0;
        std::uint8_t pad[3] = {};
        std::uint32_t length = 0;
        std::uint64_t starts_at = 0;
        take_little_endian(rest, kind_byte);
        const auto kind = static_cast<FrameKind>(kind_byte);
        for (std::uint8_t& p : pad) take_little_endian(rest, p);
        take_little_endian(rest, length);
        take_little_endian(rest, starts_at);
        if (kind_byte < 1 || kind_byte > 3 || pad[0] != 0 || pad[1] != 0 || pad[2] != 0 ||
            length > k_live_max_payload || (kind == FrameKind::end && length != k_live_end_bytes)) {
            return LiveGap{};
        }
        std::string payload = read_at(file_.get(), length, pos_ + k_live_frame_header_bytes);
        if (payload.size() < length) return std::nullopt;
        if (!still_kept()) return LiveGap{};
        if (kind == FrameKind::end) {
            std::string_view end_bytes(payload);
            std::int32_t status = 0;
            std::uint8_t has_outcome = 0;
            std::uint64_t total = 0;
            take_little_endian(end_bytes, status);
            take_little_endian(end_bytes, has_outcome);
            end_bytes.remove_prefix(3);
            take_little_endian(end_bytes, total);
            // 1: an outcome; 0: none; 2: none, the output cut short.
            return LiveEnd{status, has_outcome == 1, total, has_outcome == 2};
        }
        if (starts_at != offset) return LiveGap{};
        read_up_to(pos_ + k_live_frame_header_bytes + length);
        return LivePiece{kind == FrameKind::stdout_piece ? OutputStream::stdout_stream
                                                         : OutputStream::stderr_stream,
                         std::move(payload)};
    }

    // Moves this follower's read lock (see live_file.hpp) up to `pos`: the holder may punch
    // out what is below it.
    void read_up_to(std::uint64_t pos) {
        set_read_lock(file_.get(), F_RDLCK, pos);
        set_read_lock(file_.get(), F_UNLCK, pos_);
        pos_ = pos;
    }

    UniqueFd file_;  // held shared (flock) while it is followed
    LiveWakeWord wake_;
    std::uint64_t fence_;
    InterruptSource* interrupt_;
    std::uint64_t pos_ = k_live_header_bytes;
};

}  // namespace

UniqueFd start_live_file(int dir_fd, const std::string& name, std::uint64_t fence) {
    // A new file, not the old one emptied: a follower of the last run, or its holder forced
    // out and still writing, keeps the old one.
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        throw BackendUnavailable("local state: cannot remove " + name + ": " +
                                 std::strerror(errno));
    }
    UniqueFd file(
        ::openat(dir_fd, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.valid()) {
        throw BackendUnavailable("local state: cannot create " + name + ": " +
                                 std::strerror(errno));
    }
    // Held while the run goes on (live_file.hpp): its followers look at it, atomically.
    struct flock running = byte_range(F_WRLCK, 0);
    if (::fcntl(file.get(), F_OFD_SETLK, &running) != 0) {
        throw BackendUnavailable("local state: cannot lock " + name + ": " + std::strerror(errno));
    }
    std::string header(k_live_magic);
    append_little_endian(header, fence);
    append_little_endian(header, k_live_header_bytes);  // kept_from: nothing punched yet
    header.resize(k_live_header_bytes, '\0');
    if (!write_at(file.get(), header, 0)) {
        throw BackendUnavailable("local state: cannot write " + name + ": " + std::strerror(errno));
    }
    return file;
}

std::optional<std::uint64_t> live_file_fence(int dir_fd, const std::string& name) {
    UniqueFd file(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file.valid()) return std::nullopt;
    std::optional<Header> header = read_header(file.get());
    if (!header) return std::nullopt;
    return header->fence;
}

void append_live_end(int fd, const LiveEnd& end) noexcept {
    off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0) return;
    try {
        std::string frame = frame_header(FrameKind::end, k_live_end_bytes, end.total_bytes);
        append_little_endian(frame, static_cast<std::int32_t>(end.exit_status));
        frame.push_back(end.output_cut ? 2 : end.has_outcome ? 1 : 0);
        frame.append(3, '\0');
        append_little_endian(frame, end.total_bytes);
        if (write_at(fd, frame, static_cast<std::uint64_t>(size)))
            LiveWakeWord(fd, true).wake_all();
    } catch (const std::bad_alloc&) {
        // Its followers find the run gone without an end, and say so.
    }
}

LiveFilePublisher::LiveFilePublisher(UniqueFd file)
    : file_(std::move(file)),
      wake_(file_.get(), true),
      end_(k_live_header_bytes),
      kept_from_(k_live_header_bytes) {}

void LiveFilePublisher::publish(OutputStream stream, std::string_view bytes) {
    if (!publishing_ || bytes.empty()) return;
    const std::uint64_t starts_at = offset_;
    offset_ += bytes.size();
    if (offset_ > k_live_head_bytes && !followed()) return;
    std::string header;
    try {
        header = frame_header(stream == OutputStream::stdout_stream ? FrameKind::stdout_piece
                                                                    : FrameKind::stderr_piece,
                              static_cast<std::uint32_t>(bytes.size()), starts_at);
        frame_starts_.push_back(end_);
    } catch (const std::bad_alloc&) {
        // The output matters more than its followers: it goes on without them.
        stop();
        return;
    }
    iovec parts[2] = {{header.data(), header.size()},
                      {const_cast<char*>(bytes.data()), bytes.size()}};
    const std::uint64_t length = header.size() + bytes.size();
    ssize_t n = ::pwritev(file_.get(), parts, 2, static_cast<off_t>(end_));
    if (n != static_cast<ssize_t>(length)) {
        // A partial frame (a full disk) is never read as one: the stop marks it lost.
        stop();
        return;
    }
    end_ += length;
    wake_.wake_all();
    trim();
}

bool LiveFilePublisher::followed() {
    if (::flock(file_.get(), LOCK_EX | LOCK_NB) != 0) return true;  // a follower holds it
    stop();
    ::flock(file_.get(), LOCK_UN);
    return false;
}

std::optional<std::uint64_t> LiveFilePublisher::lowest_reader_below(std::uint64_t limit) const {
    std::optional<std::uint64_t> lowest;
    // Each look finds one follower's lock in the range (whichever the kernel meets first);
    // the next looks below it, until none is left.
    while (limit > kept_from_) {
        struct flock probe = byte_range(F_WRLCK, static_cast<off_t>(kept_from_),
                                        static_cast<off_t>(limit - kept_from_));
        if (::fcntl(file_.get(), F_OFD_GETLK, &probe) != 0 || probe.l_type == F_UNLCK) break;
        lowest = static_cast<std::uint64_t>(probe.l_start);
        limit = *lowest;
    }
    return lowest;
}

Deadline LiveFilePublisher::next_wakeup() const {
    return waits_.stalled() ? look_again_ : Deadline::never();
}

void LiveFilePublisher::trim() {
    // While a follower lags: soon again, to see whether it has moved on.
    look_again_ = Deadline::after(Millis(5));
    if (!publishing_ || frame_starts_.empty()) {
        waits_.resume();
        return;
    }
    // The window: the frames that end within k_live_window_bytes of the end.
    std::size_t drop = 0;
    while (drop + 1 < frame_starts_.size() &&
           end_ - frame_starts_[drop + 1] >= k_live_window_bytes) {
        ++drop;
    }
    std::uint64_t keep_from = drop == 0 ? kept_from_ : frame_starts_[drop];
    if (keep_from <= kept_from_) {
        waits_.resume();
        return;
    }
    if (std::optional<std::uint64_t> reader = lowest_reader_below(keep_from)) {
        waits_.lagging(std::to_string(*reader));
        if (waits_.allows()) {
            // Only what every follower has read goes; the run waits for the rest.
            while (drop > 0 && frame_starts_[drop] > *reader) --drop;
            keep_from = drop == 0 ? kept_from_ : frame_starts_[drop];
            if (keep_from <= kept_from_) return;
        } else {
            waits_.resume();  // waited long enough: that follower falls behind
        }
    } else {
        waits_.resume();
    }
    frame_starts_.erase(frame_starts_.begin(), frame_starts_.begin() + drop);
    const std::uint64_t punched_from = kept_from_;
    // Said before the blocks go: a follower that read them checks this afterwards.
    kept_from_ = keep_from;
    if (!write_u64_at(file_.get(), kept_from_, k_live_kept_from_at) ||
        ::fallocate(file_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(punched_from),
                    static_cast<off_t>(keep_from - punched_from)) != 0) {
        // Without punching, the file would grow with the output.
        stop();
    }
}

void LiveFilePublisher::stop() noexcept {
    publishing_ = false;
    // Past every frame, the end included: whoever reads on sees a gap, never an end that
    // claims the output it read was all of it.
    kept_from_ = end_ + 1;
    write_u64_at(file_.get(), kept_from_, k_live_kept_from_at);
    wake_.wake_all();
}

std::unique_ptr<LiveFeed> follow_live_file(int dir_fd, const std::string& name, std::uint64_t fence,
                                           InterruptSource* interrupt) {
    UniqueFd file(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!file.valid()) return nullptr;
    // Held while following: the holder keeps publishing past the head while it is.
    while (::flock(file.get(), LOCK_SH) != 0) {
        if (errno != EINTR) return nullptr;
    }
    std::optional<Header> header = read_header(file.get());
    if (!header || header->fence != fence) return nullptr;
    // From the first frame on: the holder punches out nothing of it unread.
    if (!set_read_lock(file.get(), F_RDLCK, k_live_header_bytes)) return nullptr;
    auto feed = std::make_unique<LiveFileFeed>(std::move(file), fence, interrupt);
    if (!feed->can_wait()) return nullptr;  // it waits for the run's end instead
    return feed;
}

}  // namespace lockrun
