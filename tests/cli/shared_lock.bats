#!/usr/bin/env bats
# --shared (SPEC §9): readers hold a key together; an exclusive caller (a writer) excludes
# them and each other, and a writer that waits keeps new readers out, so that a steady
# stream of readers cannot starve it.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# logged_cmd KIND SECONDS: a -c command that logs "NS start KIND" and "NS end KIND" to ./log.
logged_cmd() {
    printf '%s' "echo \"\$(date +%s%N) start $1\" >> log; sleep $2; echo \"\$(date +%s%N) end $1\" >> log"
}

# reader_stream KEY SECONDS: starts, in the background, a reader of KEY every 0.1 s for 3 s,
# each running SECONDS (logged as readers); STREAM_PID is its PID.
reader_stream() {
    (for i in $(seq 1 30); do
        "$LOCKRUN" --shared --wait 30 --key "$1" -c "$(logged_cmd reader "$2")" >/dev/null 2>&1 &
        sleep 0.1
    done
    wait) 3>&- &
    STREAM_PID=$!
}

# overlaps LOG: "readers W" with the most readers at once, and "writer-overlaps N" with how
# many times a writer's interval overlapped any other.
overlaps() {
    sort -k1,1n -k2,2 "$1" | awk '
        $2 == "end" && $3 == "reader" { readers-- }
        $2 == "end" && $3 == "writer" { writers-- }
        $2 == "start" && $3 == "reader" { readers++; if (writers > 0) bad++; if (readers > most) most = readers }
        $2 == "start" && $3 == "writer" { if (readers > 0 || writers > 0) bad++; writers++ }
        END { printf "readers %d writer-overlaps %d\n", most, bad + 0 }'
}

@test "readers overlap each other, never a writer, and writers never each other" {
    local i
    for i in 1 2 3 4 5 6; do
        spawn "reader$i" "$LOCKRUN" --shared --wait 60 --key rw:mix -c "$(logged_cmd reader 0.4)"
        if ((i % 3 == 0)); then
            spawn "writer$i" "$LOCKRUN" --wait 60 --no-cache --key rw:mix -c "$(logged_cmd writer 0.2)"
        fi
    done
    for i in 1 2 3 4 5 6; do
        assert_exit "reader$i" 0 60
        if ((i % 3 == 0)); then assert_exit "writer$i" 0 60; fi
    done
    assert_equal "$(grep -c start log)" 8
    local result most
    result=$(overlaps log)
    assert_regex "$result" 'writer-overlaps 0$'
    most=$(awk '{ print $2 }' <<<"$result")
    ((most >= 2)) || fail "readers never overlapped: $result"
    assert_nothing_held
}

@test "with readers arriving all the time, a waiting writer gets in within one reader's run" {
    # A reader every 0.1 s, each for 0.6 s, for 3 s: without the writer's mark, readers would
    # always be there.
    reader_stream rw:stream 0.6
    sleep 1
    local asked
    asked=$(now_ms)
    run --separate-stderr lockrun --no-cache --wait 20 --key rw:stream -c "date +%s%3N; $(logged_cmd writer 0.1)"
    assert_success
    local waited=$((output - asked))
    # Readers are always in: the writer waits for those, which end within 0.6 s, while the
    # ones arriving meanwhile wait behind it (without its mark it would wait for the whole
    # stream, 3 s and a last reader's 0.6 s). 2.8 s leaves room for a loaded machine.
    assert_between "the writer's wait (ms)" "$waited" 100 2800
    wait "$STREAM_PID"
    assert_regex "$(overlaps log)" 'writer-overlaps 0$'
    # Readers came after it too.
    assert_equal "readers after the writer: $(sort -n log | sed -n '/end writer/,$p' | grep -c 'start reader' | awk '{ print ($1 > 0) }')" "readers after the writer: 1"
}

@test "status lists the readers; release --force frees them all; a writer then runs" {
    start_holder r1 --shared --key rw:status
    start_holder r2 --shared --key rw:status
    run lockrun status rw:status
    assert_line 'state:      held by 2 readers (--shared)'
    assert_equal "$(grep -c '^holder:' <<<"$output")" 2
    run lockrun status rw:status --json
    assert_equal "$(jq -c '[.shared, (.holders | length)]' <<<"$output")" '[true,2]'
    run lockrun list
    assert_output --partial 'rw:status: held by 2 readers (--shared)'
    run lockrun release rw:status --force
    assert_output 'released rw:status (all 2 of its holders)'
    run --separate-stderr lockrun --no-cache --wait 5 --key rw:status -c 'echo writer'
    assert_success
    assert_output writer
    assert_exit r1 76 30
    assert_exit r2 76 30
}

@test "a reader waits for a writer; readers and a semaphore do not mix (64)" {
    start_holder writer --key rw:wait
    spawn reader "$LOCKRUN" -v --shared --wait 30 --key rw:wait -c 'date +%s%3N'
    wait_until 10 grep -q 'waiting for rw:wait' reader.err
    release writer
    assert_exit writer 0 10
    assert_exit reader 0 10
    # The reader's command started after the writer's ended.
    local read_at
    read_at=$(cat reader.out)
    ((read_at >= $(cat writer.ended))) || fail "the reader ran at $read_at, before the writer ended at $(cat writer.ended)"
    start_holder sem -n 2 --key rw:sem
    run --separate-stderr lockrun --shared --key rw:sem -c 'touch ran'
    assert_status 64
    assert_one_error_line 'held with -n 2, and this caller gave --shared'
    release sem
    assert_exit sem 0 10
    start_holder readers --shared --key rw:sem2
    run --separate-stderr lockrun -n 2 --key rw:sem2 -c 'touch ran'
    assert_status 64
    assert_one_error_line 'held with readers \(--shared\), and this caller gave -n 2'
    assert [ ! -e ran ]
    release readers
    assert_exit readers 0 10
    assert_nothing_held
}

@test "--shared with -n or a cache option: exit 64, one line, nothing held" {
    assert_rejected 64 'do not go together' --shared -n 2 --key k -c 'touch ran'
    assert_rejected 64 'lock only.*--cache-ttl' --shared --cache-ttl 1m --key k -c 'touch ran'
    assert_rejected 64 'lock only.*--stale' --shared --stale 1s --key k -c 'touch ran'
}

@test "the README's readers-and-a-writer recipe, as written" {
    local recipe
    recipe=$(readme_block "**Readers beside a writer**")
    assert_regex "$recipe" '--shared'
    mkdir -p recipe-bin
    ln -sf "$LOCKRUN" recipe-bin/lockrun
    printf '#!/bin/sh\necho "$(date +%%s%%N) start reader" >> log; sleep 0.3; echo "$(date +%%s%%N) end reader" >> log; echo report\n' >make-report
    printf '#!/bin/sh\necho "$(date +%%s%%N) start writer" >> log; sleep 0.2; echo "$(date +%%s%%N) end writer" >> log; echo loaded\n' >load-dataset
    chmod +x make-report load-dataset
    printf '%s\n' "$recipe" >recipe.sh
    local i
    for i in 1 2 3 4; do
        spawn "run$i" env PATH="$PWD/recipe-bin:$PATH" bash -e recipe.sh
    done
    for i in 1 2 3 4; do assert_exit "run$i" 0 60; done
    assert_equal "$(grep -c 'start reader' log) $(grep -c 'start writer' log)" "8 4"
    assert_regex "$(overlaps log)" 'writer-overlaps 0$'
}

@test "two writers waiting behind a stream of readers both get in" {
    reader_stream rw:two 0.5
    sleep 0.8
    spawn w1 "$LOCKRUN" --no-cache --wait 20 --key rw:two -c "$(logged_cmd writer 0.2)"
    spawn w2 "$LOCKRUN" --no-cache --wait 20 --key rw:two -c "$(logged_cmd writer 0.2)"
    assert_exit w1 0 30
    assert_exit w2 0 30
    wait "$STREAM_PID"
    assert_equal "$(grep -c 'start writer' log)" 2
    assert_regex "$(overlaps log)" 'writer-overlaps 0$'
    # Both got in before the stream ended: readers started after the second writer ended.
    assert_equal "readers after both writers: $(sort -n log | awk '/end writer/ { w++ } w == 2 && /start reader/ { n++ } END { print (n > 0) }')" "readers after both writers: 1"
}

@test "an exclusive caller that does not wait (--wait 0) keeps no reader out" {
    start_holder reader --shared --key rw:nowait
    run --separate-stderr lockrun --no-cache --key rw:nowait -c 'touch ran'
    assert_status 75
    # A new reader enters at once.
    run --separate-stderr lockrun --shared --wait 0 --key rw:nowait -c 'echo in'
    assert_success
    assert_output in
    release reader
    assert_exit reader 0 10
}
