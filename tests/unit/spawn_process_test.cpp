// exec/spawn_process.hpp: the child is set up as the plan says before its execve (group,
// descriptors, signals), the program is found as execvp(3) finds it, and a failure names its
// cause and leaves no child behind.
#include "exec/spawn_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/unique_fd.hpp"

namespace lockrun {
namespace {

// A shell that writes what `script` prints into a pipe on its fd 3 (or another), and its
// exit status.
struct ShellRun {
    std::string output;
    int status = -1;
};

// Everything the pipe's other end writes, until every writer has closed it.
std::string read_to_end(int fd) {
    std::string text;
    char buffer[4096];
    ssize_t got;
    while ((got = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, got);
    return text;
}

SpawnPlan shell_plan(const std::string& script) {
    SpawnPlan plan;
    plan.programs = {"/bin/sh"};
    plan.argv = {"sh", "-c", script};
    ::sigemptyset(&plan.mask);
    return plan;
}

ShellRun run_with_fd3(SpawnPlan plan, int pipe_fd = 3) {
    int ends[2];
    EXPECT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    UniqueFd read_end(ends[0]);
    UniqueFd write_end(ends[1]);
    plan.dups.emplace_back(write_end.get(), pipe_fd);
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    write_end.reset();
    ShellRun run;
    if (!std::holds_alternative<pid_t>(started)) return run;
    run.output = read_to_end(read_end.get());
    int status = 0;
    ::waitpid(std::get<pid_t>(started), &status, 0);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

// No child of this process is left to reap (nor running).
bool no_child_left() {
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

TEST(ProgramCandidates, ANameWithASlashIsTheOnlyCandidate) {
    EXPECT_EQ(program_candidates("./run.sh", "/bin"), std::vector<std::string>{"./run.sh"});
    EXPECT_EQ(program_candidates("/bin/true", "/usr/bin"), std::vector<std::string>{"/bin/true"});
}

TEST(ProgramCandidates, EachDirectoryOfPathInOrderAndAnEmptyEntryIsTheWorkingDirectory) {
    EXPECT_EQ(program_candidates("make", "/usr/local/bin::/usr/bin:"),
              (std::vector<std::string>{"/usr/local/bin/make", "make", "/usr/bin/make", "make"}));
}

TEST(ProgramCandidates, WithoutPathTheDefaultOfGlibc) {
    EXPECT_EQ(program_candidates("make", nullptr),
              (std::vector<std::string>{"/bin/make", "/usr/bin/make"}));
}

TEST(ProgramCandidates, AnEmptyNameHasNone) {
    EXPECT_TRUE(program_candidates("", "/bin").empty());
}

TEST(SpawnProcess, RunsTheProgramWithItsArgumentsAndEnvironment) {
    SpawnPlan plan = shell_plan("echo \"$1 $GREETING\" >&3; exit 3");
    plan.argv.push_back("sh");
    plan.argv.push_back("hello");
    plan.environment = {"GREETING=world"};
    ShellRun run = run_with_fd3(plan);
    EXPECT_EQ(run.output, "hello world\n");
    EXPECT_EQ(run.status, 3);
}

TEST(SpawnProcess, LeadsANewProcessGroupOrJoinsOne) {
    // Field 5 of /proc/PID/stat is the process group.
    SpawnPlan leader = shell_plan("cut -d' ' -f5 /proc/$$/stat >&3; echo $$ >&3");
    leader.process_group = 0;
    ShellRun led = run_with_fd3(leader);
    const std::string group = led.output.substr(0, led.output.find('\n'));
    EXPECT_EQ(led.output, group + "\n" + group + "\n");  // its group is its own pid

    SpawnPlan same = shell_plan("cut -d' ' -f5 /proc/$$/stat >&3");
    same.process_group = -1;
    EXPECT_EQ(run_with_fd3(same).output, std::to_string(::getpgrp()) + "\n");
}

// The masks of the program itself (grep, not a shell, which may change its own).
std::string signal_masks(SpawnPlan plan) {
    plan.programs = {"/bin/grep"};
    plan.argv = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"};
    int ends[2];
    EXPECT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    UniqueFd read_end(ends[0]);
    UniqueFd write_end(ends[1]);
    plan.dups.emplace_back(write_end.get(), STDOUT_FILENO);
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    write_end.reset();
    const std::string output = read_to_end(read_end.get());
    if (const pid_t* pid = std::get_if<pid_t>(&started)) ::waitpid(*pid, nullptr, 0);
    return output;
}

// The hex mask on the line `name` of /proc/PID/status text.
unsigned long long mask_of(const std::string& name, const std::string& status) {
    const std::size_t at = status.find(name + ":\t");
    if (at == std::string::npos) return ~0ULL;
    return std::strtoull(status.c_str() + at + name.size() + 2, nullptr, 16);
}

TEST(SpawnProcess, LeadsANewSessionWhenAsked) {
    // Field 6 of /proc/PID/stat is the session.
    SpawnPlan plan = shell_plan("cut -d' ' -f6 /proc/$$/stat >&3; echo $$ >&3");
    plan.new_session = true;
    const std::string output = run_with_fd3(plan).output;
    const std::string session = output.substr(0, output.find('\n'));
    EXPECT_EQ(output, session + "\n" + session + "\n");
    EXPECT_NE(session, std::to_string(::getsid(0)));
}

TEST(SpawnProcess, TheSignalMaskIsThePlansAndTheDefaultSignalsAreReset) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction before {};
    ::sigaction(SIGPIPE, &ignore, &before);
    SpawnPlan plan = shell_plan("");
    ::sigaddset(&plan.mask, SIGUSR2);
    plan.default_signals = {SIGPIPE};
    const std::string reset = signal_masks(plan);
    plan.default_signals.clear();
    const std::string kept = signal_masks(plan);
    ::sigaction(SIGPIPE, &before, nullptr);
    // SIGUSR2 is signal 12: bit 11, 0x800. SIGPIPE is 13: 0x1000. (The test may have been
    // started with other signals ignored, which the child keeps: only SIGPIPE's bit is read.)
    EXPECT_EQ(mask_of("SigBlk", reset), 0x800U) << reset;
    EXPECT_EQ(mask_of("SigIgn", reset) & 0x1000U, 0U) << reset;
    EXPECT_EQ(mask_of("SigIgn", kept) & 0x1000U, 0x1000U) << kept;
}

TEST(SpawnProcess, DescriptorsAreKeptOrClosedAsPlanned) {
    UniqueFd close_on_exec(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd inheritable(::open("/dev/null", O_RDONLY));
    const std::string probe = "for fd in " + std::to_string(close_on_exec.get()) + " " +
                              std::to_string(inheritable.get()) +
                              "; do [ -e /proc/self/fd/$fd ] && echo open >&3 || echo shut >&3; "
                              "done";
    SpawnPlan plan = shell_plan(probe);
    plan.dups.emplace_back(close_on_exec.get(), close_on_exec.get());  // kept: flag cleared
    EXPECT_EQ(run_with_fd3(plan).output, "open\nopen\n");
    // The parent's own descriptor keeps its flag.
    EXPECT_EQ(::fcntl(close_on_exec.get(), F_GETFD), FD_CLOEXEC);

    // Every other descriptor above 2 closed, after the dups (fd 3, the pipe, is one of them).
    plan = shell_plan(
        "[ -e /proc/self/fd/" + std::to_string(inheritable.get()) +
        " ] && echo open >&3 || echo shut >&3; readlink /proc/self/fd/0 /proc/self/fd/2 >&3");
    plan.close_other_descriptors = true;
    plan.null_standard_streams = true;
    EXPECT_EQ(run_with_fd3(plan).output, "shut\n/dev/null\n/dev/null\n");
}

TEST(SpawnProcess, ClosingTheOtherDescriptorsKeepsTheCopiesMadeAbove2) {
    // As lockrun-watcher's lease pipe on descriptor 3: a copy made by `dups` survives, every
    // other descriptor, below and above it, is closed.
    UniqueFd inheritable(::open("/dev/null", O_RDONLY));  // no close-on-exec flag
    ASSERT_GE(inheritable.get(), 0);
    SpawnPlan plan = shell_plan("[ -e /proc/self/fd/" + std::to_string(inheritable.get()) +
                                " ] && echo open >&7 || echo shut >&7; ls /proc/self/fd >&7");
    plan.null_standard_streams = true;
    plan.close_other_descriptors = true;
    // 0-2, 7, and the descriptor ls reads /proc/self/fd through (3).
    EXPECT_EQ(run_with_fd3(plan, 7).output, "shut\n0\n1\n2\n3\n7\n");
}

TEST(SpawnProcess, NotFoundAnywhereIsEnoentAndLeavesNoChild) {
    SpawnPlan plan = shell_plan("exit 0");
    plan.programs = {"/nonexistent/a", "/nonexistent/b"};
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    ASSERT_TRUE(std::holds_alternative<SpawnFailure>(started));
    EXPECT_EQ(std::get<SpawnFailure>(started).error, ENOENT);
    EXPECT_EQ(std::get<SpawnFailure>(started).step, nullptr);
    EXPECT_TRUE(no_child_left());
}

TEST(SpawnProcess, ACandidateThatMayNotRunIsPassedOverAndReportedIfNoneRuns) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("spawn_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string plain_file = (dir / "tool").string();
    std::ofstream(plain_file) << "#!/bin/sh\nexit 0\n";
    ::chmod(plain_file.c_str(), 0644);

    SpawnPlan plan = shell_plan("echo ran >&3");
    plan.programs = {plain_file, "/bin/sh"};  // the first may not run; the second does
    EXPECT_EQ(run_with_fd3(plan).output, "ran\n");

    plan.programs = {plain_file, "/nonexistent/tool"};
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    ASSERT_TRUE(std::holds_alternative<SpawnFailure>(started));
    EXPECT_EQ(std::get<SpawnFailure>(started).error, EACCES);  // the more telling one
    std::filesystem::remove_all(dir);
}

TEST(SpawnProcess, AFormatTheKernelCannotRunEndsTheSearch) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("spawn_test_x." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string no_interpreter = (dir / "tool").string();
    std::ofstream(no_interpreter) << "exit 0\n";  // no #! line
    ::chmod(no_interpreter.c_str(), 0755);
    SpawnPlan plan = shell_plan("exit 0");
    plan.programs = {no_interpreter, "/bin/sh"};
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    ASSERT_TRUE(std::holds_alternative<SpawnFailure>(started));
    EXPECT_EQ(std::get<SpawnFailure>(started).error, ENOEXEC);
    EXPECT_TRUE(no_child_left());
    std::filesystem::remove_all(dir);
}

TEST(SpawnProcess, AStepThatFailsBeforeExecveIsNamed) {
    SpawnPlan plan = shell_plan("exit 0");
    plan.process_group = 1;  // init's group, in another session: not ours to join
    std::variant<pid_t, SpawnFailure> started = spawn_process(plan);
    ASSERT_TRUE(std::holds_alternative<SpawnFailure>(started));
    EXPECT_EQ(std::string(std::get<SpawnFailure>(started).step), "setpgid");
    EXPECT_EQ(std::get<SpawnFailure>(started).error, EPERM);
    EXPECT_TRUE(no_child_left());
}

}  // namespace
}  // namespace lockrun
