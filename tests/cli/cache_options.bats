#!/usr/bin/env bats
# What is stored, for how long, and when it is read (SPEC §1, §2): --cache-ttl,
# --cache-failures (and the runs that are never stored), --no-cache, --refresh,
# --cache-max-bytes, --key-from-command. The commands append a line to `runs`, so its
# line count is how many times they ran. Backend-neutral: what is stored is seen through
# `lockrun status KEY --json` and `lockrun cache show KEY`.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# cache_of KEY: the "cache" member of `lockrun status KEY --json`, compact ("null": none).
cache_of() {
    local json
    json=$(lockrun status "$1" --json) || fail "lockrun status $1 --json failed"
    jq -c .cache <<<"$json"
}

assert_nothing_stored() {
    assert_equal "cache of $1: $(cache_of "$1")" "cache of $1: null"
}

# hold_until_go: a -c command that counts its run, writes ./started, waits for ./go (at
# most 30 s) and prints "done".
hold_until_go() {
    printf '%s' "echo run >> runs; echo started > started; $(wait_for_go_cmd); echo done"
}

# --- --cache-ttl -----------------------------------------------------------------------

@test "--cache-ttl 1s: a call within the TTL replays, one after it runs again" {
    local script='echo run >> runs; echo "$LOCKRUN_FENCING_TOKEN"'
    run --separate-stderr lockrun --cache-ttl 1s --key ttl:short -c "$script"
    assert_status 0
    local stored_at first=$output
    stored_at=$(now_ms)
    run --separate-stderr lockrun --cache-ttl 1s --key ttl:short -c "$script"
    assert_status 0
    assert_output "$first"
    assert_runs 1

    sleep_until_ms $((stored_at + 1500))
    run --separate-stderr lockrun --cache-ttl 1s --key ttl:short -c "$script"
    assert_status 0
    assert_runs 2
    assert_not_equal "$output" "$first"
}

@test "the TTL left of a stored result is within --cache-ttl" {
    lockrun --cache-ttl 60s --key ttl:left -c 'echo hi' >/dev/null
    local json
    json=$(lockrun status ttl:left --json)
    assert_between "ttl_left_ms" "$(jq -r .cache.ttl_left_ms <<<"$json")" 50000 60000
}

# --- failures --------------------------------------------------------------------------

@test "a non-zero exit is not stored by default: the next call runs again" {
    run --separate-stderr lockrun --key fail:default -c 'echo run >> runs; echo failed; exit 3'
    assert_status 3
    assert_output failed
    assert_nothing_stored fail:default
    run --separate-stderr lockrun --key fail:default -c 'echo run >> runs; echo failed; exit 3'
    assert_status 3
    assert_output failed
    assert_runs 2
}

@test "--cache-failures stores a non-zero exit and later calls replay it with its code" {
    run --separate-stderr lockrun --cache-failures --key fail:stored -c 'echo run >> runs; echo failed; exit 3'
    assert_status 3
    run --separate-stderr lockrun --cache-failures --key fail:stored -c 'echo run >> runs; echo failed; exit 3'
    assert_status 3
    assert_output failed
    assert_runs 1
    assert_equal "$(cache_of fail:stored | jq -r .exit_code)" 3
}

@test "a command killed by a signal is not stored, even with --cache-failures" {
    local script='echo run >> runs; echo partial; kill -KILL $$'
    run --separate-stderr lockrun --cache-failures --key fail:signal -c "$script"
    assert_status 137
    assert_nothing_stored fail:signal
    run --separate-stderr lockrun --cache-failures --key fail:signal -c "$script"
    assert_status 137
    assert_runs 2
}

@test "a run stopped by a forwarded SIGTERM is not stored, even with --cache-failures" {
    spawn stopped "$LOCKRUN" --cache-failures --key fail:term -c "$(hold_until_go)"
    wait_until 10 test -s started
    kill -TERM "${SPAWNED[stopped]}"
    assert_exit stopped 143 10
    assert_nothing_stored fail:term
    run --separate-stderr lockrun --key fail:term -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output again
    assert_runs 2
}

@test "a run stopped by a forwarded SIGTERM is not stored even when its command exits 0" {
    spawn stopped "$LOCKRUN" --key fail:term0 -c "trap 'echo stopped; exit 0' TERM; $(hold_until_go)"
    wait_until 10 test -s started
    kill -TERM "${SPAWNED[stopped]}"
    assert_exit stopped 0 10
    assert_nothing_stored fail:term0
    run --separate-stderr lockrun --key fail:term0 -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output again
    assert_runs 2
}

@test "a run whose lock was released by force is not stored (--on-lock-lost ignore)" {
    spawn holder "$LOCKRUN" --lease 1s --on-lock-lost ignore --key fail:forced -c "$(hold_until_go)"
    wait_until 10 test -s started
    run --separate-stderr lockrun release fail:forced --force
    assert_status 0
    touch go
    assert_exit holder 0 10
    assert_equal "$(<holder.out)" 'done'
    assert_nothing_stored fail:forced
    run --separate-stderr lockrun --key fail:forced -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output again
    assert_runs 2
}

@test "a run whose lock was released by force is not stored (--on-lock-lost term)" {
    spawn holder "$LOCKRUN" --lease 1s --key fail:forced-term -c "$(hold_until_go)"
    wait_until 10 test -s started
    run --separate-stderr lockrun release fail:forced-term --force
    assert_status 0
    assert_exit holder 76 10
    assert_nothing_stored fail:forced-term
}

# --- --no-cache ------------------------------------------------------------------------

@test "--no-cache never stores: status shows no cache entry and the next call runs" {
    run --separate-stderr lockrun --no-cache --key nocache:store -c 'echo run >> runs; echo hi'
    assert_status 0
    assert_output hi
    assert_nothing_stored nocache:store
    run --separate-stderr lockrun --key nocache:store -c 'echo run >> runs; echo hi'
    assert_status 0
    assert_runs 2
}

@test "--no-cache never reads: a stored result is ignored and left as it was" {
    lockrun --key nocache:read -c 'echo run >> runs; echo old' >/dev/null
    run --separate-stderr lockrun --no-cache --key nocache:read -c 'echo run >> runs; echo new'
    assert_status 0
    assert_output new
    assert_runs 2
    run --separate-stderr lockrun cache show nocache:read
    assert_status 0
    assert_output old
}

@test "--no-cache runs a failing command every time" {
    run --separate-stderr lockrun --no-cache --key nocache:fail -c 'echo run >> runs; exit 3'
    assert_status 3
    run --separate-stderr lockrun --no-cache --key nocache:fail -c 'echo run >> runs; exit 3'
    assert_status 3
    assert_runs 2
}

# --- --refresh -------------------------------------------------------------------------

@test "--refresh runs although a result is stored, and stores the new output" {
    lockrun --key refresh:new -c 'echo run >> runs; echo v1' >/dev/null
    run --separate-stderr lockrun --refresh --key refresh:new -c 'echo run >> runs; echo v2'
    assert_status 0
    assert_output v2
    assert_runs 2
    run --separate-stderr lockrun --key refresh:new -c 'echo run >> runs; echo v3'
    assert_status 0
    assert_output v2
    assert_runs 2
}

@test "--refresh with nothing stored runs and stores" {
    run --separate-stderr lockrun --refresh --key refresh:empty -c 'echo run >> runs; echo v1'
    assert_status 0
    assert_output v1
    run --separate-stderr lockrun --key refresh:empty -c 'echo run >> runs; echo v2'
    assert_output v1
    assert_runs 1
}

# --- --cache-max-bytes -----------------------------------------------------------------

@test "output over --cache-max-bytes is streamed in full, with one warning, and not stored" {
    # Random bytes: compressed, they are still over the limit.
    head -c 1025 /dev/urandom >data.bin
    local script='echo run >> runs; cat data.bin'
    lockrun --cache-max-bytes 1KiB --key maxbytes:over -c "$script" >got.bin 2>got.err
    cmp data.bin got.bin
    stderr=$(<got.err)
    assert_one_error_line 'not caching'
    assert_nothing_stored maxbytes:over
    run --separate-stderr lockrun --cache-max-bytes 1KiB --key maxbytes:over -c "$script"
    assert_status 0
    assert_runs 2
}

@test "output over --cache-max-bytes that compresses under it is stored compressed, and replayed byte for byte" {
    # 2 MiB of log lines under a 64 KiB limit: the limit is on the stored (compressed) size.
    seq -f 'step %g of the build: ok' 1 80000 | head -c 2097152 >log.txt
    local script='echo run >> runs; cat log.txt'
    lockrun --cache-max-bytes 64KiB --key maxbytes:compressed -c "$script" >got.txt 2>got.err
    cmp log.txt got.txt
    assert_equal "stderr: '$(<got.err)'" "stderr: ''"
    cache_of maxbytes:compressed >cache.json
    assert_equal "$(jq -r .output_bytes cache.json)" 2097152
    local stored
    stored=$(jq -r .size_bytes cache.json)
    ((stored <= 65536)) || fail "stored $stored bytes, over the 64 KiB limit"
    lockrun --cache-max-bytes 64KiB --key maxbytes:compressed -c "$script" >replayed.txt 2>/dev/null
    cmp log.txt replayed.txt
    assert_runs 1
    # cache show writes it decompressed, as text or in --json's chunks.
    lockrun cache show maxbytes:compressed >shown.txt
    cmp log.txt shown.txt
    lockrun cache show --json maxbytes:compressed >shown.json
    jq -j '.output[] | .text' shown.json >shown-json.txt
    cmp log.txt shown-json.txt
    # Written a chunk per MiB as it is decompressed, not held whole.
    local chunks
    chunks=$(jq '.output | length' shown.json)
    ((chunks >= 2)) || fail "2 MiB of output in $chunks chunk(s)"
}

@test "cache show --json cuts a large output between characters, never inside one" {
    # Two-byte characters, 15-byte lines: a cut at a whole MiB would fall inside one.
    yes 'ééééééé' | head -c 3000000 >text.txt
    lockrun -k json:utf8 -- cat text.txt >/dev/null
    lockrun cache show --json json:utf8 >shown.json
    assert_equal "base64 chunks: $(jq '[.output[] | select(.base64)] | length' shown.json)" \
        "base64 chunks: 0"
    jq -j '.output[] | .text' shown.json >shown.txt
    cmp text.txt shown.txt
}

@test "when memory runs out while the output is kept for the cache, the output still reaches stdout whole: only caching is given up" {
    # lockrun's own address space on this machine (the command reads its parent's), then
    # a limit 4 MiB above it: enough to run and relay, not to keep 8 MiB for the cache.
    local vm_kib
    vm_kib=$(lockrun --no-cache -k vm:probe -- sh -c 'grep VmPeak /proc/$PPID/status' |
        awk '{print $2}')
    [[ $vm_kib =~ ^[0-9]+$ ]] || fail "no VmPeak: '$vm_kib'"
    # 8 MiB that do not compress: keeping them needs more than the 4 MiB left.
    head -c 8388608 /dev/urandom >data.bin
    (
        ulimit -v $((vm_kib + 4096))
        lockrun -k vm:tight -c 'echo run >> runs; cat data.bin' >got.bin 2>got.err
    )
    cmp data.bin got.bin
    stderr=$(<got.err)
    assert_one_error_line 'not caching the result of vm:tight: its output could not be kept \(out of memory\)'
    assert_nothing_stored vm:tight
}

# damage_stored KEY: four bytes near the end of KEY's stored record (inside its compressed
# frame) changed.
damage_stored() {
    if backend_is local; then
        local file
        file=$(state_file "$1" out)
        printf '\001\002\003\004' |
            dd of="$file" bs=1 seek=$(($(wc -c <"$file") - 12)) conv=notrunc status=none
    else
        local length
        length=$(rcli STRLEN "$(out_key "$1")")
        printf '\001\002\003\004' | rcli -x SETRANGE "$(out_key "$1")" $((length - 12)) >/dev/null
    fi
}

@test "a damaged compressed record is a miss with one warning: nothing of it is replayed, the command runs" {
    seq -f 'step %g of the build: ok' 1 80000 >log.txt
    local script='echo run >> runs; cat log.txt'
    lockrun --key compressed:damaged -c "$script" >/dev/null 2>&1
    damage_stored compressed:damaged
    lockrun --key compressed:damaged -c "$script" >got.txt 2>got.err
    cmp log.txt got.txt
    stderr=$(<got.err)
    assert_one_error_line 'ignoring the cached result of compressed:damaged: .*compressed output'
    assert_runs 2
}

@test "output of exactly --cache-max-bytes is stored and replayed, without a warning" {
    local script='echo run >> runs; head -c 1024 /dev/zero | tr "\000" x'
    run --separate-stderr lockrun --cache-max-bytes 1KiB --key maxbytes:exact -c "$script"
    assert_status 0
    assert_equal "stderr: '$stderr'" "stderr: ''"
    assert_equal "$(cache_of maxbytes:exact | jq -r .output_bytes)" 1024
    run --separate-stderr lockrun --cache-max-bytes 1KiB --key maxbytes:exact -c "$script"
    assert_status 0
    assert_equal "stdout bytes: ${#output}" "stdout bytes: 1024"
    assert_runs 1
}

@test "200 MiB of output that compresses is stored well under its size and replayed byte for byte in bounded memory" {
    local script='echo run >> runs; seq 1 30000000 | head -c 209715200'
    local expected
    expected=$(seq 1 30000000 | head -c 209715200 | sha256sum)
    set -o pipefail  # from here: lockrun's status counts, not sha256sum's
    /usr/bin/time -f %M -o ran.kib "$LOCKRUN" --key big:log -c "$script" 2>ran.err |
        sha256sum >ran.sum
    assert_equal "$(<ran.sum)" "$expected"
    cache_of big:log >cache.json
    assert_equal "$(jq -r .output_bytes cache.json)" 209715200
    local stored
    stored=$(jq -r .size_bytes cache.json)
    ((stored * 8 < 209715200)) || fail "stored $stored bytes of 200 MiB"
    /usr/bin/time -f %M -o replayed.kib "$LOCKRUN" --key big:log -c "$script" 2>replayed.err |
        sha256sum >replayed.sum
    assert_equal "$(<replayed.sum)" "$expected"
    assert_runs 1
    # The output never sits in memory whole, compressed or not: a few times the stored
    # size (16 MiB at most) at the most.
    local ran_kib replayed_kib
    ran_kib=$(tail -1 ran.kib) replayed_kib=$(tail -1 replayed.kib)
    ((ran_kib < 96 * 1024)) || fail "the run's peak RSS was $ran_kib KiB"
    ((replayed_kib < 64 * 1024)) || fail "the replay's peak RSS was $replayed_kib KiB"
}

@test "a large output over --cache-max-bytes reaches stdout byte for byte" {
    head -c 300000 /dev/urandom >data.bin
    lockrun --cache-max-bytes 64KiB --key maxbytes:large -- cat data.bin >got.bin 2>got.err
    cmp data.bin got.bin
    stderr=$(<got.err)
    assert_one_error_line 'not caching'
    assert_nothing_stored maxbytes:large
}

@test "with --cache-stderr, stdout and stderr together count against --cache-max-bytes" {
    head -c 600 /dev/urandom >o.bin
    head -c 600 /dev/urandom >e.bin
    local script='echo run >> runs; cat o.bin; cat e.bin >&2'
    lockrun --cache-stderr --cache-max-bytes 1KiB --key maxbytes:both -c "$script" >got.out 2>got.err
    assert_equal "stdout bytes: $(wc -c <got.out | tr -d ' ')" "stdout bytes: 600"
    # stderr: the command's 600 bytes, then the warning on a line of its own.
    run grep -c 'lockrun: not caching' got.err
    assert_output 1
    assert_nothing_stored maxbytes:both
}

# --- --key-from-command ----------------------------------------------------------------

@test "--key-from-command: two identical commands share a key, the second replays" {
    run --separate-stderr lockrun --key-from-command -- sh -c 'echo run >> runs; echo same'
    assert_status 0
    assert_output same
    run --separate-stderr lockrun --key-from-command -- sh -c 'echo run >> runs; echo same'
    assert_status 0
    assert_output same
    assert_runs 1
}

@test "--key-from-command: a different argv is a different key" {
    lockrun --key-from-command -- sh -c 'echo run >> runs; echo "$0"' a >/dev/null
    run --separate-stderr lockrun --key-from-command -- sh -c 'echo run >> runs; echo "$0"' b
    assert_status 0
    assert_output b
    assert_runs 2
}

@test "--key-from-command: words are NUL-joined, so 'a b' and 'a' 'b' differ" {
    lockrun --key-from-command -- sh -c 'echo run >> runs; echo "$*"' x 'a b' >/dev/null
    run --separate-stderr lockrun --key-from-command -- sh -c 'echo run >> runs; echo "$*"' x a b
    assert_status 0
    assert_output 'a b'
    assert_runs 2
}

@test "--key-from-command: the key is cmd: + SHA-256 of the NUL-joined argv" {
    local script='echo run >> runs; echo "$LOCKRUN_KEY"'
    local key
    key=cmd:$(nul_joined_sha256 sh -c "$script")
    run --separate-stderr lockrun --key-from-command -- sh -c "$script"
    assert_status 0
    assert_output "$key"
    run --separate-stderr lockrun cache show "$key"
    assert_status 0
    assert_output "$key"
}

@test "--key-from-command with -c hashes /bin/sh, -c and the string" {
    local script='echo run >> runs; echo "$LOCKRUN_KEY"'
    local key
    key=cmd:$(nul_joined_sha256 /bin/sh -c "$script")
    run --separate-stderr lockrun --key-from-command -c "$script"
    assert_status 0
    assert_output "$key"
    assert_equal "$(cache_of "$key" | jq -r .exit_code)" 0
}
