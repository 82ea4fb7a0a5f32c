#include "exec/output_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "fakes/test_pipe.hpp"

namespace lockrun {
namespace {

// Bytes that show where each came from: a relay that drops, repeats or reorders a piece
// does not reproduce them.
std::string numbered_bytes(std::size_t size) {
    std::string bytes;
    for (std::size_t i = 0; bytes.size() < size; ++i) bytes += std::to_string(i) + ',';
    bytes.resize(size);
    return bytes;
}

// The command's side: writes `bytes` into the pipe, then closes it, from a thread of its own.
class Writer {
public:
    Writer(UniqueFd write_end, std::string bytes)
        : thread_([fd = std::move(write_end), bytes = std::move(bytes)]() mutable {
              std::size_t done = 0;
              while (done < bytes.size()) {
                  ssize_t put = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
                  if (put <= 0) return;
                  done += static_cast<std::size_t>(put);
              }
          }) {}
    ~Writer() { thread_.join(); }

private:
    std::thread thread_;
};

// The reader of our output: reads a pipe or socket to its end, from a thread of its own.
class Reader {
public:
    explicit Reader(UniqueFd read_end)
        : thread_([this, fd = std::move(read_end)] {
              char buffer[8192];
              for (;;) {
                  ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
                  if (got <= 0) return;
                  bytes_.append(buffer, static_cast<std::size_t>(got));
              }
          }) {}
    // Waits for the end of the output (every write end closed).
    const std::string& bytes() {
        if (thread_.joinable()) thread_.join();
        return bytes_;
    }
    ~Reader() {
        if (thread_.joinable()) thread_.join();
    }

private:
    std::string bytes_;
    std::thread thread_;
};

// Runs the relay as the supervisor's loop does (poll once, then let it act) until it is done.
void pump(OutputRelay& relay) {
    for (int ticks = 0; !relay.done(); ++ticks) {
        ASSERT_LT(ticks, 1'000'000) << "the relay does not get done";
        pollfd fds[2] = {{relay.wants_read() ? relay.source_fd() : -1, POLLIN, 0},
                         {relay.wants_write() ? relay.destination_fd() : -1, POLLOUT, 0}};
        ASSERT_GE(::poll(fds, 2, 10'000), 1) << "nothing became ready in 10 s";
        if (fds[0].revents != 0) relay.read_source();
        if (fds[1].revents != 0) relay.write_destination();
    }
}

Capture capture_up_to(std::uint64_t limit) {
    Capture capture;
    capture.enabled = true;
    capture.limit = limit;
    return capture;
}

// Everything the capture kept, decompressed if it was compressed.
std::string kept(Capture& capture) {
    capture.finish();
    CachedResult result;
    result.output = capture.chunks;
    result.compressed_output = capture.compressed;
    if (!capture.compressed.empty()) result.compressed_bytes = capture.size;
    return result.stdout_bytes();
}

struct TempFile {
    std::string path = testing::TempDir() + "relay-XXXXXX";
    UniqueFd fd;
    explicit TempFile(int extra_flags = 0) {
        fd.reset(::mkstemp(path.data()));
        EXPECT_TRUE(fd.valid());
        if (extra_flags != 0) ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | extra_flags);
    }
    ~TempFile() { ::unlink(path.c_str()); }
    std::string contents() const {
        std::string bytes;
        UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        char buffer[65536];
        ssize_t got;
        while ((got = ::read(in.get(), buffer, sizeof buffer)) > 0) {
            bytes.append(buffer, static_cast<std::size_t>(got));
        }
        return bytes;
    }
};

const std::size_t k_large = 3 * 1024 * 1024 + 17;  // many pipefuls, not a whole page at the end

// What reaches a pipe destination when the command writes `output` and the relay runs
// to its end with `capture`. `our_pipe_size`, if given: that pipe's size, set before and
// read back after.
std::string relayed_through_a_pipe(const std::string& output, Capture& capture,
                                   int* our_pipe_size = nullptr) {
    TestPipe command, ours;
    if (our_pipe_size != nullptr) {
        EXPECT_EQ(::fcntl(ours.write_end.get(), F_SETPIPE_SZ, *our_pipe_size), *our_pipe_size);
    }
    Reader reader(std::move(ours.read_end));
    {
        Writer writer(std::move(command.write_end), output);
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), ours.write_end.get(),
                          OutputStream::stdout_stream, tap);
        pump(relay);
    }
    if (our_pipe_size != nullptr) *our_pipe_size = ::fcntl(ours.write_end.get(), F_GETPIPE_SZ);
    ours.write_end.reset();
    return reader.bytes();
}

TEST(OutputRelay, MovesEveryByteToAPipeWhenNothingIsCaptured) {
    std::string output = numbered_bytes(k_large);
    Capture off;
    EXPECT_TRUE(relayed_through_a_pipe(output, off) == output);
    EXPECT_TRUE(off.chunks.empty());
}

TEST(OutputRelay, CapturesWhatItMovesToAPipe) {
    std::string output = numbered_bytes(k_large);
    Capture capture = capture_up_to(16 * 1024 * 1024);
    EXPECT_TRUE(relayed_through_a_pipe(output, capture) == output);
    EXPECT_FALSE(capture.over_limit);
    EXPECT_TRUE(kept(capture) == output);
}

TEST(OutputRelay, KeepsMovingEveryByteAfterTheCapturePassesItsLimit) {
    std::string output = numbered_bytes(k_large);
    Capture capture = capture_up_to(100 * 1024);
    EXPECT_TRUE(relayed_through_a_pipe(output, capture) == output);
    EXPECT_TRUE(capture.over_limit);
    EXPECT_TRUE(capture.chunks.empty());
}

// The size of our pipe after the command wrote `output` through the relay into it, having
// been `size` bytes before.
int pipe_size_after(const std::string& output, int size, bool capturing) {
    Capture capture = capturing ? capture_up_to(16 * 1024 * 1024) : Capture{};
    EXPECT_TRUE(relayed_through_a_pipe(output, capture, &size) == output);
    return size;
}

TEST(OutputRelay, GrowsOurPipeOnlyForACommandThatStreams) {
    for (bool capturing : {false, true}) {
        EXPECT_EQ(pipe_size_after(numbered_bytes(1000), 65536, capturing), 65536)
            << "capturing: " << capturing;
        EXPECT_EQ(pipe_size_after(numbered_bytes(k_large), 65536, capturing), k_streaming_pipe)
            << "capturing: " << capturing;
    }
}

TEST(OutputRelay, WritesAndCapturesToAFile) {
    for (bool capturing : {false, true}) {
        std::string output = numbered_bytes(k_large);
        TestPipe command;
        TempFile file;
        Capture capture = capturing ? capture_up_to(16 * 1024 * 1024) : Capture{};
        {
            Writer writer(std::move(command.write_end), output);
            OutputTap tap{capture};
            OutputRelay relay(std::move(command.read_end), file.fd.get(),
                              OutputStream::stdout_stream, tap);
            pump(relay);
        }
        EXPECT_TRUE(file.contents() == output) << "capturing: " << capturing;
        EXPECT_TRUE(kept(capture) == (capturing ? output : "")) << "capturing: " << capturing;
    }
}

TEST(OutputRelay, WritesToAFileOpenedForAppendingWhichSpliceRefuses) {
    std::string output = numbered_bytes(k_large);
    TestPipe command;
    TempFile file(O_APPEND);
    Capture off;
    {
        Writer writer(std::move(command.write_end), output);
        OutputTap tap{off};
        OutputRelay relay(std::move(command.read_end), file.fd.get(), OutputStream::stdout_stream,
                          tap);
        pump(relay);
    }
    EXPECT_TRUE(file.contents() == output);
}

TEST(OutputRelay, WritesAndCapturesToASocket) {
    std::string output = numbered_bytes(k_large);
    TestPipe command;
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd ours(pair[0]);
    Reader reader{UniqueFd(pair[1])};
    Capture capture = capture_up_to(16 * 1024 * 1024);
    {
        Writer writer(std::move(command.write_end), output);
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), ours.get(), OutputStream::stdout_stream,
                          tap);
        pump(relay);
    }
    ::shutdown(ours.get(), SHUT_WR);
    EXPECT_TRUE(reader.bytes() == output);
    EXPECT_TRUE(kept(capture) == output);
}

TEST(OutputRelay, WaitsForRoomWhileTheReaderIsSlowWithoutLosingBytes) {
    // Nobody reads our pipe until the relay has filled it: the relay must then wait for
    // POLLOUT (not spin, not drop), and go on once the reader drains it.
    for (bool capturing : {false, true}) {
        std::string output = numbered_bytes(k_large);
        TestPipe command, ours;
        Capture capture = capturing ? capture_up_to(16 * 1024 * 1024) : Capture{};
        Writer writer(std::move(command.write_end), output);
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), ours.write_end.get(),
                          OutputStream::stdout_stream, tap);
        for (int ticks = 0; !relay.wants_write(); ++ticks) {
            ASSERT_LT(ticks, 100'000);
            pollfd source{relay.source_fd(), POLLIN, 0};
            ASSERT_EQ(::poll(&source, 1, 10'000), 1);
            relay.read_source();
        }
        EXPECT_FALSE(relay.wants_read()) << "capturing: " << capturing;
        Reader reader(std::move(ours.read_end));
        pump(relay);
        ours.write_end.reset();
        EXPECT_TRUE(reader.bytes() == output) << "capturing: " << capturing;
        EXPECT_TRUE(kept(capture) == (capturing ? output : "")) << "capturing: " << capturing;
    }
}

TEST(OutputRelay, RelaysAllThatThePipeHeldWhenTheCommandEndedThenStops) {
    // The command filled its pipe and exited; a child it left keeps the write end open.
    // Told to stop (the drain second is over) before the reader has taken anything, the
    // relay still moves every byte the command wrote, and only then closes the pipe.
    auto previous = std::signal(SIGPIPE, SIG_IGN);
    for (bool capturing : {false, true}) {
        std::string output = numbered_bytes(600 * 1024);
        TestPipe command, ours;
        ASSERT_GE(::fcntl(command.write_end.get(), F_SETPIPE_SZ, 1024 * 1024), 1024 * 1024);
        ASSERT_EQ(::write(command.write_end.get(), output.data(), output.size()),
                  static_cast<ssize_t>(output.size()));
        Capture capture = capturing ? capture_up_to(16 * 1024 * 1024) : Capture{};
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), ours.write_end.get(),
                          OutputStream::stdout_stream, tap);
        relay.command_ended();
        relay.stop_after_owed();
        EXPECT_FALSE(relay.done()) << "capturing: " << capturing;
        Reader reader(std::move(ours.read_end));
        pump(relay);
        ours.write_end.reset();
        EXPECT_TRUE(reader.bytes() == output) << "capturing: " << capturing;
        EXPECT_TRUE(kept(capture) == (capturing ? output : "")) << "capturing: " << capturing;
        // What the leftover child writes now goes nowhere: the relay closed its end.
        EXPECT_EQ(::write(command.write_end.get(), "y", 1), -1) << "capturing: " << capturing;
        EXPECT_EQ(errno, EPIPE);
    }
    std::signal(SIGPIPE, previous);
}

TEST(OutputRelay, StopsAtOnceWhenThePipeWasEmptyAtTheCommandsEnd) {
    TestPipe command, ours;
    Capture off;
    OutputTap tap{off};
    OutputRelay relay(std::move(command.read_end), ours.write_end.get(),
                      OutputStream::stdout_stream, tap);
    relay.command_ended();
    command.put('x');  // a leftover child's, after the end: not the command's output
    relay.stop_after_owed();
    EXPECT_TRUE(relay.done());
}

TEST(OutputRelay, ADestinationThatFailsIsReportedWhileTheCommandRunsOnAndIsCapturedWhole) {
    // A full disk under our stdout is this caller's trouble, not the command's: it is not
    // sent SIGPIPE, and the capture (the result other callers get) keeps everything.
    std::string output = numbered_bytes(k_large);
    TestPipe command;
    UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(full.valid());
    Capture capture = capture_up_to(16 * 1024 * 1024);
    std::optional<std::string> failure;
    {
        Writer writer(std::move(command.write_end), output);
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), full.get(), OutputStream::stdout_stream,
                          tap);
        pump(relay);
        failure = relay.failure();
    }
    EXPECT_EQ(failure.value_or("none"), "stdout: No space left on device");
    EXPECT_TRUE(kept(capture) == output);
}

TEST(OutputRelay, StopsReadingWhenTheReaderGoesAway) {
    // As in a shell pipeline: `lockrun ... | head -1`; the command then gets SIGPIPE from
    // its own pipe, which the relay closes.
    auto previous = std::signal(SIGPIPE, SIG_IGN);  // as lockrun has it: EPIPE, not death
    for (bool capturing : {false, true}) {
        TestPipe command, ours;
        ours.read_end.reset();
        Capture capture = capturing ? capture_up_to(1024) : Capture{};
        OutputTap tap{capture};
        OutputRelay relay(std::move(command.read_end), ours.write_end.get(),
                          OutputStream::stdout_stream, tap);
        command.put('x');
        pump(relay);
        EXPECT_TRUE(relay.done()) << "capturing: " << capturing;
        EXPECT_FALSE(relay.failure()) << "capturing: " << capturing;
        EXPECT_EQ(::write(command.write_end.get(), "y", 1), -1) << "capturing: " << capturing;
        EXPECT_EQ(errno, EPIPE);
    }
    std::signal(SIGPIPE, previous);
}

}  // namespace
}  // namespace lockrun
