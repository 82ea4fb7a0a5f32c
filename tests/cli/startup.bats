#!/usr/bin/env bats
# What lockrun reads before it runs the command, seen with strace(1): no file it does not
# need (OpenSSL's configuration only for TLS, tests/cli/redis/tls.bats; no user database;
# no config file for --help). The round trips of a Redis run: tests/cli/redis/round_trips.bats.

load common
load strace_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a run reads no user database, no nsswitch.conf and no OpenSSL configuration" {
    run traced --no-cache --key startup -- true
    assert_status 0
    run opened
    refute_line --regexp 'passwd|group|nsswitch|openssl|ssl/'
    run grep 'nscd' trace
    assert_failure
}

@test "lockrun builds no C++ standard streams at start: it holds no std::ios_base::Init" {
    # <iostream>'s initialiser (the eight streams) cost every run ~40 us; lockrun prints
    # with write(2) (src/cli/standard_output.hpp, src/cli/cli11.hpp).
    run nm -C "$LOCKRUN"
    assert_success
    refute_output --partial 'std::ios_base::Init::Init'
    refute_output --partial 'std::cout'
}

@test "the command and its watcher start without a reset of every signal's disposition" {
    # glibc's posix_spawn queried and set all 64 signals in the child, 127 system calls of
    # every run (src/exec/spawn_process.hpp); the command needs SIGPIPE's alone.
    strace -f -qq -o all.trace -e trace=rt_sigaction,clone,clone3,vfork,fork \
        "$LOCKRUN" --no-cache --key startup-spawn -- true
    # lockrun ignores SIGPIPE and puts it back; the child resets it: three (posix_spawn: 128).
    run grep -c 'rt_sigaction(SIGPIPE' all.trace
    assert_output 3
    run grep -c 'rt_sigaction(' all.trace
    assert [ "$output" -le 12 ]
    # Neither is a fork (a copy of lockrun's page tables): both share its memory until execve.
    run grep -cE 'CLONE_VM\|CLONE_VFORK' all.trace
    assert_output 2
}

@test "a cached run and its replay read no user database and no OpenSSL configuration" {
    run traced --key startup-cached -- echo hi
    assert_status 0
    run traced --key startup-cached -- echo hi
    assert_output --partial hi
    run opened
    refute_line --regexp 'passwd|group|nsswitch|openssl|ssl/'
}

@test "--key-from-command hashes the command without OpenSSL's configuration" {
    run traced --no-cache --key-from-command -- true
    assert_status 0
    run opened
    refute_line --regexp 'openssl|ssl/'
}

@test "--help and --version open no file of lockrun's: no config file, no state dir" {
    for flag in --help --version; do
        printf 'lease = "1s"\n' >config.toml
        LOCKRUN_CONFIG="$PWD/config.toml" run traced "$flag"
        assert_status 0
        run opened
        refute_line --regexp 'config\.toml|lockrun'
    done
}

@test "the holder record names the user by uid, and status names it on this host" {
    start_holder holder --key startup-user
    # A caller that finds it held says whose it is as the record has it: by uid.
    run --separate-stderr lockrun --key startup-user -- true
    assert_status 75
    assert_equal "$(grep -c "(uid $(id -u)) running" <<<"$stderr")" 1
    run lockrun status startup-user --json
    assert_status 0
    assert_equal "$(jq -r .holder.user <<<"$output")" "$(id -un)"
    run lockrun status startup-user
    assert_output --partial "(user $(id -un))"
    release holder
    assert_exit holder 0 10
}
