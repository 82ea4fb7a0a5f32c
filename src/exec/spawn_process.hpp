#pragma once
// Starting a program as posix_spawn(3) does (a child that shares our memory until its
// execve, and that we are suspended for until then), without what glibc's posix_spawn adds:
// in the child it resets every signal's disposition, one query and one set for each of the
// 64 signals (127 system calls, ~50 µs of every start measured on this project's 2-core
// VM). lockrun needs none of that: it has no signal handler installed while it starts a
// process (exec/signal_watch.hpp installs one only around a local follower's wait), so the
// dispositions the child inherits are those lockrun was started with, but SIGPIPE, which
// lockrun ignores, and which the child resets. (glibc's also left its two internal signals,
// 32 and 33, ignored in every child, and so in the programs it executed.) Used for the command
// and its watcher, twice a run, and for --stale's background refresh.
//
// The child runs on a stack of its own and makes system calls only: no allocation, no lock,
// nothing that a signal handler could not do. Every signal is blocked in it from its first
// instruction until `mask` is set, the last thing before execve.

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lockrun {

struct SpawnPlan {
    std::vector<std::string> programs;  // paths tried in this order (program_candidates)
    std::vector<std::string> argv;
    std::vector<std::string> environment;   // NAME=VALUE each
    bool new_session = false;               // lead a new session (and group), detached
    pid_t process_group = -1;               // join this group; 0: lead a new one; -1: ours
    bool null_standard_streams = false;     // /dev/null on 0, 1 and 2, before `dups`
    std::vector<std::pair<int, int>> dups;  // {from, to}: `to` a copy of `from`, kept open
    bool close_other_descriptors = false;   // every descriptor above 2 but `dups`'s closed
    int parent_death_signal = 0;            // prctl(PR_SET_PDEATHSIG); 0: none
    std::vector<int> default_signals;       // set to SIG_DFL
    sigset_t mask{};                        // the child's signal mask, from execve on
};

struct SpawnFailure {
    // When none of `programs` could be executed, the errno that says why, chosen as
    // execvp(3) chooses it: EACCES if a candidate exists but may not be executed, else the
    // last error (ENOENT when none exists). Else the errno of `step`.
    int error = 0;
    const char* step = nullptr;  // null: execve; else "clone", "setpgid", "dup3"...
};

// The pid of the started program, or why there is none. No child is left behind on failure.
std::variant<pid_t, SpawnFailure> spawn_process(const SpawnPlan& plan);

// The plan's steps before execve, in the order SpawnPlan gives them, in the calling process:
// for a fork of ours that goes on without execve. System calls only, as in spawn_process's
// child. False, with the step that failed, when one does.
bool apply_plan_steps(const SpawnPlan& plan, SpawnFailure& failure);

// Our environment without the `removed` variables, and with the `set` ones (replacing any of
// the same name): a SpawnPlan's.
std::vector<std::string> environment_with(
    const std::vector<std::pair<std::string, std::string>>& set,
    const std::vector<std::string>& removed = {});

// The paths execvp(3) and posix_spawnp(3) try for `name`: `name` itself if it holds a '/';
// else `name` in each directory of `path` (null: "/bin:/usr/bin", as glibc's default; an
// empty entry is the working directory).
std::vector<std::string> program_candidates(const std::string& name, const char* path);

}  // namespace lockrun
