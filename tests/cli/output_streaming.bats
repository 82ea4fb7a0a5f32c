#!/usr/bin/env bats
# Stdout carries only the command's bytes, as they are produced; a reader that goes away
# or a grandchild that keeps the pipe open must not leave the lock held (SPEC §1 step 3,
# §4, CONVENTIONS pitfall SIGPIPE).

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "stdout is streamed while the command runs, not at its end" {
    spawn streamer "$LOCKRUN" --no-cache --key stream -c "echo first; $(hold_cmd streamer); echo second"
    wait_until 10 grep -qx first streamer.out
    assert [ ! -e streamer.ended ]

    release streamer
    assert_exit streamer 0 10
    assert_equal "$(<streamer.out)" $'first\nsecond'
}

@test "1 MiB of binary stdout passes through a pipe byte-exact" {
    head -c 1048576 /dev/urandom >in.bin
    lockrun --no-cache --key binary -- cat in.bin | cat >out.bin
    cmp in.bin out.bin
}

# slow_reader: stdin to stdout, after a pause longer than the second that lockrun reads its
# command's pipe for once the command has exited.
slow_reader() { sleep 2.5; cat; }

@test "a reader slower than the drain second gets all the command wrote, and the cache keeps it whole" {
    # 1.5 MB: the command writes it all into the pipes and exits while the reader sleeps.
    # lockrun 0.1 then dropped what was still in the command's pipe (the last 0.5 MB),
    # exited 0, and cached the cut output for every later caller.
    head -c 1500000 /dev/urandom >in.bin
    lockrun --key slow -- cat in.bin | slow_reader >out.bin
    cmp in.bin out.bin
    # A later caller replays it whole, with the run's status.
    lockrun --key slow -- false >replayed.bin 2>/dev/null
    cmp in.bin replayed.bin
    # Moved in the kernel (nothing captured), and with stderr captured too.
    lockrun --no-cache --key slow-spliced -- cat in.bin | slow_reader >spliced.bin
    cmp in.bin spliced.bin
    lockrun --cache-stderr --key slow-stderr -c 'cat in.bin >&2' 2>&1 >/dev/null | slow_reader >stderr.bin
    cmp in.bin stderr.bin
    assert_nothing_held
}

@test "output a leftover child writes after the drain second is cut; the command's own reaches a slow reader" {
    head -c 1500000 /dev/urandom >in.bin
    local started_at
    started_at=$(now_ms)
    # The grandchild writes for ever into the pipe it inherited; the run must still end.
    lockrun --no-cache --key leftover -c 'cat in.bin; (exec yes leftover) & echo $! > grandchild.pid' |
        slow_reader >out.bin
    assert_between "ms until the run ended" $(($(now_ms) - started_at)) 0 10000
    cmp -n 1500000 in.bin out.bin
    # After the command's bytes, only the grandchild's lines (the last one may be cut).
    run bash -c 'tail -c +1500001 out.bin | head -n -1 | grep -cvx leftover'
    assert_output 0
    # Its pipe closed, it dies of SIGPIPE.
    wait_until 5 is_gone "$(<grandchild.pid)"
    assert_nothing_held
}

@test "stdout on a full disk: one line and 74, the command runs to its end, and its result is stored whole" {
    head -c 300000 /dev/urandom >in.bin
    run --separate-stderr bash -c 'lockrun --key full -c "cat in.bin; echo run >> runs" >/dev/full'
    assert_status 74
    assert_one_error_line 'full: its output could not be written to stdout: No space left on device; .*incomplete.*status: 0'
    # Not cut short by lockrun's own stdout: it ran once, to its end, and later callers get
    # all of its output.
    assert_runs 1
    lockrun -q --key full -- false >replayed.bin
    cmp in.bin replayed.bin
    # A replay and a run without the cache say so too; nothing stays held.
    run --separate-stderr bash -c 'lockrun -q --key full -- false >/dev/full'
    assert_status 74
    assert_one_error_line 'full: its output could not be written to stdout: No space left on device'
    run --separate-stderr bash -c 'lockrun --no-cache --key full-unkept -- cat in.bin >/dev/full'
    assert_status 74
    assert_one_error_line 'full-unkept: its output could not be written to stdout'
    # Stderr, captured (the default) and replayed, alike: 74 (the line has nowhere to go).
    run bash -c 'lockrun --key full-stderr -c "echo err >&2; echo out" 2>/dev/full'
    assert_status 74
    assert_output out
    run bash -c 'lockrun -q --key full-stderr -- false 2>/dev/full'
    assert_status 74
    assert_output out
    assert_nothing_held
}

@test "what lockrun itself prints (--help, a subcommand) on a full disk: one line and 74; to a reader that went away, no error" {
    lockrun --key full-sub -- echo stored >/dev/null
    local words
    for words in "--help" "--version" "status full-sub" "status full-sub --json" "list --json" \
        "cache show full-sub" "cache show full-sub --json" "config" "doctor --json"; do
        # shellcheck disable=SC2086 # the words are split on purpose
        run --separate-stderr bash -c 'lockrun "$@" >/dev/full' lockrun $words
        assert_status 74
        assert_one_error_line 'stdout: No space left on device: what lockrun printed is incomplete'
    done
    # A pipeline's reader that has all it wants (here, before the 590 KB are written): the
    # subcommand's own status, no line.
    lockrun --key full-big -- seq 100000 >/dev/null
    run --separate-stderr bash -c 'lockrun cache show full-big | head -c 2; exit "${PIPESTATUS[0]}"'
    assert_status 0
    assert_output '1'
    assert_equal "$stderr" ''
    assert_nothing_held
}

# nonblocking COMMAND...: runs COMMAND with O_NONBLOCK set on its stdout, as a CI runner or a
# Node.js parent can leave a shared descriptor.
nonblocking() {
    python3 -c 'import os, sys; os.set_blocking(1, False); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

@test "a non-blocking stdout gets the whole output of a run and of a replay" {
    # lockrun 0.1 took EAGAIN for a reader that had gone: a replay into a full non-blocking
    # pipe printed 64 KiB, and exited 0.
    head -c 1500000 /dev/urandom >in.bin
    nonblocking "$LOCKRUN" --key nonblocking -- cat in.bin | slow_reader >run.bin
    cmp in.bin run.bin
    nonblocking "$LOCKRUN" -q --key nonblocking -- false | slow_reader >replayed.bin
    cmp in.bin replayed.bin
}

@test "a daemonised grandchild that keeps stdout open does not hold the run" {
    local started_at
    started_at=$(now_ms)
    spawn daemon "$LOCKRUN" --no-cache --key daemon -c '(sleep 30 & echo $! > grandchild.pid); echo done'
    assert_exit daemon 0 10
    assert_between "ms until lockrun exited" $(($(now_ms) - started_at)) 0 3000
    assert_equal "$(<daemon.out)" done
    assert_nothing_held
}

@test "a reader that closes early ends the run with nothing held" {
    export LR_TIMEOUT=15
    run --separate-stderr bash -c 'lockrun --no-cache --lease 30s --key reader -c yes | head -1; echo "${PIPESTATUS[0]}" > lockrun.status'
    assert_output y
    # 124: lockrun was still running when timeout(1) stopped it.
    assert_not_equal "lockrun exit $(<lockrun.status)" "lockrun exit 124"
    assert_nothing_held
}

@test "a reader that goes away before the end leaves no cut result in the cache: the next caller runs" {
    # The command survives SIGPIPE (the shell goes on to `true`) and exits 0: lockrun 0.1
    # cached its first 64 KiB as its result, for every later caller.
    run --separate-stderr bash -c 'lockrun --key cut -c "echo run >> runs; seq 1 200000; true" | head -1'
    assert_output 1
    run grep -c 'not caching the result of cut: the reader of its output went away before the end' <<<"$stderr"
    assert_output 1
    run --separate-stderr lockrun --key cut -c 'echo run >> runs; seq 1 200000; true'
    assert_status 0
    assert_equal "${#output}" "$(seq 1 200000 | head -c -1 | wc -c)"
    assert_runs 2
    assert_nothing_held
}

@test "seq 1 100000 | head -1 prints 1 and nothing is held" {
    export LR_TIMEOUT=15
    run --separate-stderr bash -c 'lockrun --no-cache --lease 30s --key reader -c "seq 1 100000" | head -1'
    assert_status 0
    assert_output 1
    assert_nothing_held
}

@test "with -v the logs go to stderr and stdout has only the command's bytes" {
    run --separate-stderr lockrun -v --no-cache --key verbose -- printf 'x'
    assert_status 0
    assert_output x
    local line
    for line in "${stderr_lines[@]}"; do
        assert_regex "$line" '^lockrun: '
    done
}
