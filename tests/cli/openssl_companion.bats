#!/usr/bin/env bats
# lockrun carries no OpenSSL: for a rediss:// URL or --cache-key-file it becomes
# lockrun-openssl (exec, the same process), found beside it or, installed, in
# ../libexec/lockrun. TLS itself: tests/cli/redis/tls.bats; signed records:
# tests/cli/cache_signing.bats.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    head -c 32 /dev/urandom | base64 >cache.key
}
teardown() { per_test_teardown; }

# The program its command's parent process runs, and that parent's own parent's name.
report_parent='readlink /proc/$PPID/exe; cat /proc/$(cut -d" " -f4 /proc/$PPID/stat)/comm'

@test "a run that needs neither TLS nor signed records is lockrun itself, which carries no OpenSSL" {
    run lockrun --no-cache -k plain -- sh -c "$report_parent"
    assert_success
    assert_line --index 0 "$(readlink -f "$LOCKRUN")"
    run nm "$LOCKRUN"
    assert_success
    refute_output --regexp 'SSL_CTX_new|EVP_MD_fetch|HMAC|OSSL_PROVIDER'
    # Nor, on x86-64, OpenSSL's CPU probe (src/without_openssl/openssl_ia32cap.cpp).
    if [[ $(uname -m) == x86_64 ]] && ! ldd "$LOCKRUN" | grep -q libcrypto; then
        refute_output --partial OPENSSL_cpuid_setup
    fi
}

@test "lockrun's SHA-256, without OpenSSL's CPU probe, agrees with sha256sum across block sizes" {
    # --key-from-command names the key cmd:<SHA-256 of argv joined by NUL>; "echo" and a
    # NUL are 5 bytes of it. 51 and 59 put the padding on either side of a block's end.
    local n payload
    for n in 1 50 51 59 60 1000 100000; do
        payload=$(head -c "$n" /dev/zero | tr '\0' x)
        lockrun --key-from-command -- echo "$payload" >/dev/null
        run --separate-stderr lockrun cache show "cmd:$(nul_joined_sha256 echo "$payload")"
        assert_success
        assert_output "$payload"
    done
}

@test "lockrun's SHA-1 names its Redis scripts as Redis does: they are called by it, not sent again" {
    backend_is redis || skip "the scripts are Redis's"
    lockrun --no-cache -k sha1:first -- true  # the server learns the scripts
    rcli CONFIG RESETSTAT >/dev/null
    # Taking and releasing the lock: EVALSHA each, and no EVAL after a NOSCRIPT. (Live
    # output sends its script's text with its first piece, by design: --no-cache has none.)
    run lockrun --no-cache -k sha1:second -- true
    assert_success
    run rcli INFO commandstats
    assert_output --partial cmdstat_evalsha:
    refute_output --partial cmdstat_eval:
}

@test "--cache-key-file: lockrun-openssl runs in lockrun's place, the same process with its arguments and environment" {
    MARK=passed-on run lockrun --cache-key-file cache.key -k signed -- \
        sh -c "$report_parent; echo \$MARK; tr '\\0' ' ' </proc/\$PPID/cmdline"
    assert_success
    assert_line --index 0 "$(dirname "$(readlink -f "$LOCKRUN")")/lockrun-openssl"
    assert_line --index 1 timeout  # lockrun's own parent: no lockrun stands between
    assert_line --index 2 passed-on
    assert_line --index 3 "$LOCKRUN --cache-key-file cache.key -k signed -- sh -c $report_parent; echo \$MARK; tr '\\0' ' ' </proc/\$PPID/cmdline "
    # What it stored is signed: replayed by the next caller with the key, without running.
    run lockrun --cache-key-file cache.key -k signed -- sh -c 'echo ran again'
    assert_success
    refute_output --partial 'ran again'
    assert_line passed-on
}

@test "a run in lockrun-openssl is named lockrun: pgrep -x lockrun finds it as any other" {
    run lockrun --cache-key-file cache.key -k named -- \
        sh -c 'readlink /proc/$PPID/exe; cat /proc/$PPID/comm; echo "pid $PPID"; pgrep -x lockrun'
    assert_success
    assert_line --index 0 "$(dirname "$(readlink -f "$LOCKRUN")")/lockrun-openssl"
    assert_line --index 1 lockrun
    local pid=${lines[2]#pid }
    assert_line "$pid"  # among pgrep's
}

@test "without lockrun-openssl, a run that needs it exits 78 with one line, runs nothing and leaves the key free" {
    mkdir bin
    cp "$LOCKRUN" bin/lockrun
    run --separate-stderr bin/lockrun --cache-key-file cache.key -k alone -- touch ran
    assert_status 78
    assert_one_error_line "^lockrun: --cache-key-file needs lockrun-openssl, which is installed with lockrun, and it could not be run \\(reinstall lockrun\\): $PWD/bin/lockrun-openssl \\(No such file or directory\\), $PWD/libexec/lockrun/lockrun-openssl \\(No such file or directory\\)$"
    run --separate-stderr bin/lockrun --backend redis --redis "rediss://user:secret@127.0.0.1:1" \
        -k alone -- touch ran
    assert_status 78
    assert_one_error_line '^lockrun: TLS to rediss://user:\*\*\*@127\.0\.0\.1:1 needs lockrun-openssl, which is installed with lockrun'
    [ ! -e ran ]
    run lockrun --wait 0 -k alone -- echo free
    assert_success
    assert_output free
    # Freeing a key or dropping its result reads no record: no HMAC, no lockrun-openssl.
    run --separate-stderr bin/lockrun --cache-key-file cache.key cache drop alone
    assert_success
    run --separate-stderr bin/lockrun --cache-key-file cache.key release alone --force
    assert_success
}

@test "an installed lockrun finds lockrun-openssl in ../libexec/lockrun" {
    mkdir -p usr/bin usr/libexec/lockrun
    cp "$LOCKRUN" usr/bin/lockrun
    cp "$(dirname "$LOCKRUN")/lockrun-openssl" usr/libexec/lockrun/
    run usr/bin/lockrun --cache-key-file cache.key -k installed -- sh -c "$report_parent"
    assert_success
    assert_line --index 0 "$PWD/usr/libexec/lockrun/lockrun-openssl"
}
