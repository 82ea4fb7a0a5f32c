#!/usr/bin/env bats
# A command that reads the terminal (SPEC §2: stdin passes through to it). It runs in a
# process group of its own (SPEC §4), which the terminal takes for a background job: the
# kernel stopped it at its first read (SIGTTIN) or change of the terminal's modes (SIGTTOU),
# and lockrun waited for ever. lockrun now gives it the terminal as a shell gives a job,
# when lockrun is the foreground job, and takes it back at its end (exec/terminal_handover).
# Each test runs lockrun, or a shell that runs it, on a pseudo-terminal (on_terminal.py).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

on_terminal() {
    python3 "$BATS_TEST_DIRNAME/on_terminal.py" "$@"
}

@test "a command that reads the terminal gets it when lockrun is the foreground job: its prompt is answered" {
    run on_terminal --after 'Continue? ' --send 'yes\n' -- \
        "$LOCKRUN" --no-cache -k prompt -- sh -c 'printf "Continue? "; read answer; echo "answer: $answer"'
    assert_success
    assert_line 'answer: yes'
    assert_nothing_held
}

@test "a process that the command starts reads the terminal too (sudo's password in a script)" {
    # lockrun sees its command's stops, not those of the command's children: typed at a
    # prompt, the command's group gets the terminal from its start.
    run on_terminal --after 'token? ' --send 'abc\n' -- "$LOCKRUN" --no-cache -k child -- \
        sh -c 'sh -c "printf \"token? \"; read t; echo \"token: \$t\""; echo done'
    assert_success
    assert_line 'token: abc'
    assert_line done
}

@test "in a pipeline (stdout not the terminal), the command gets the terminal when it stops for it" {
    run on_terminal --after 'name? ' --send 'pipe\n' -- sh -c '
        "$LOCKRUN" --no-cache -k piped -- sh -c "printf \"name? \" >&2; read n; echo \"name: \$n\"" | cat'
    assert_success
    assert_line 'name: pipe'
}

@test "a command that turns the terminal's echo off (a password prompt, SIGTTOU) gets it too" {
    run on_terminal --after 'Password: ' --send 'secret\n' -- "$LOCKRUN" --no-cache -k password -- \
        sh -c 'stty -echo; printf "Password: "; read pw; stty echo; echo; echo "length ${#pw}"'
    assert_success
    assert_line 'length 6'
    refute_output --partial secret
}

@test "the terminal is lockrun's again once the command has ended" {
    # The shell that ran lockrun reads the terminal's foreground group afterwards: its own.
    run on_terminal --after 'name? ' --send 'x\n' -- sh -c '
        "$LOCKRUN" --no-cache -k back -- sh -c "printf \"name? \"; read a"
        echo "foreground $(ps -o tpgid= -p $$ | tr -d " ") shell $(ps -o pgid= -p $$ | tr -d " ")"'
    assert_success
    assert_line --regexp '^foreground ([0-9]+) shell \1$'
}

@test "Ctrl-C to a command that holds the terminal ends the run as a Ctrl-C to lockrun: 130, nothing stored, its follower told so" {
    # Typed, Ctrl-C reaches the command's group now, not lockrun; a run it ends is one the
    # user cut short, as when lockrun forwards it (SPEC §4).
    spawn holder python3 "$BATS_TEST_DIRNAME/on_terminal.py" --timeout 20 \
        --after 'first? ' --send 'go\n' --after 'second? ' --send '\x03' -- \
        "$LOCKRUN" -k ctrl-c -- sh -c "printf 'first? '; read a; touch held; $(wait_for_go_cmd)
            printf 'second? '; read b; echo never"
    wait_until 10 test -e held
    spawn follower "$LOCKRUN" -k ctrl-c -w 20 -- echo follower-ran
    wait_until 10 grep -q 'first? ' follower.out
    touch go
    assert_exit holder 130 20
    assert_equal "$(grep -c never holder.out)" 0
    assert_exit follower 130 20
    load_stderr follower
    assert_one_error_line 'followed the run of .* live to its end, exit 130 \(it was stopped; nothing was stored\)$'
    run --separate-stderr lockrun -k ctrl-c -- echo again
    assert_success
    assert_output again
}

@test "in the background of a shell, lockrun stops as its command did (tty input); fg gives the command the terminal" {
    run on_terminal --timeout 30 --after 'Stopped' --send 'yes\n' -- bash -c '
        set -m
        "$LOCKRUN" --no-cache -k bg -- sh -c "read a; echo got-\$a" &
        for i in $(seq 200); do jobs -l | grep -q Stopped && break; sleep 0.05; done
        jobs -l
        fg %1 >/dev/null'
    assert_success
    assert_output --partial 'Stopped (tty input)'
    assert_line got-yes
    assert_nothing_held
}

@test "Ctrl-Z stops a command that holds the terminal, and lockrun with it; fg gives it the terminal back" {
    run on_terminal --timeout 30 --after 'first? ' --send 'one\n' --after 'second? ' --send '\x1a' \
        --after 'Stopped' --send 'two\n' -- bash -c '
        set -m
        "$LOCKRUN" --no-cache -k tstp -- sh -c "printf \"first? \"; read a; echo got-\$a;
            printf \"second? \"; read b; echo got-\$b"
        jobs -l
        fg %1 >/dev/null'
    assert_success
    assert_line got-one
    assert_output --partial 'Stopped'
    assert_line got-two
    assert_nothing_held
}
