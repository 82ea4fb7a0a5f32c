#!/usr/bin/env bats
# The run's inputs as part of its key (SPEC §1, §2): --key-file (files by content,
# directories recursively by relative path and content, symlinks inside them not followed),
# --key-env, --key-cwd. KEY becomes KEY:in-<32 hex>; a changed input is a new run, an
# unchanged one a replay. Every counted command appends a line to ./runs.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# counted ARG...: a lockrun run of a command that counts itself and prints "ran".
counted() {
    run --separate-stderr lockrun "$@" -c 'echo run >>runs; echo ran'
}

# key_of ARG...: the full key a run with these options uses (from its -v line), run with
# --no-cache so that it stores nothing under it.
key_of() {
    lockrun -v --no-cache "$@" -- true 2>&1 >/dev/null | sed -n 's/^lockrun: \([^ ]*\): using the .*/\1/p' | head -1
}

@test "--key-file: an unchanged file replays, a changed one is a new run; the key shows the digest" {
    printf 'lock v1\n' >package-lock.json
    counted --key-file package-lock.json -k deps
    assert_success
    counted --key-file package-lock.json -k deps
    assert_success
    assert_output ran
    assert_regex "$stderr" "^lockrun: deps:in-[0-9a-f]{32}: replayed the run of "
    assert_runs 1
    printf 'lock v2\n' >package-lock.json
    counted --key-file package-lock.json -k deps
    assert_runs 2
    # The path given is not part of it: the same content elsewhere is the same input.
    mkdir other
    cp package-lock.json other/
    assert_equal "$(key_of --key-file other/package-lock.json -k deps)" \
        "$(key_of --key-file package-lock.json -k deps)"
    run --separate-stderr lockrun status "$(key_of --key-file package-lock.json -k deps)" --json
    assert_success
    assert_equal "$(jq -r .key <<<"$output")" "$(key_of --key-file package-lock.json -k deps)"
    assert_equal "$(jq -r .cache.exit_code <<<"$output")" 0
    # status (and the other subcommands) add the inputs to the KEY they are given too.
    run --separate-stderr lockrun status deps --key-file package-lock.json --json
    assert_equal "$(jq -r .key <<<"$output")" "$(key_of --key-file package-lock.json -k deps)"
}

@test "--key-file on a directory: by relative path and content, whatever the order of creation" {
    mkdir -p one/sub two/sub
    printf 'a' >one/a
    printf 'b' >one/sub/b
    printf 'c' >one/c
    printf 'c' >two/c
    printf 'b' >two/sub/b
    printf 'a' >two/a
    assert_equal "$(key_of --key-file one -k src)" "$(key_of --key-file two -k src)"
    counted --key-file one -k src
    counted --key-file two -k src
    assert_runs 1
    # A file's content, a name, a new empty file, a new empty directory: each a new input.
    local before
    before=$(key_of --key-file one -k src)
    printf 'B' >one/sub/b
    [[ $(key_of --key-file one -k src) != "$before" ]]
    before=$(key_of --key-file one -k src)
    mv one/c one/d
    [[ $(key_of --key-file one -k src) != "$before" ]]
    before=$(key_of --key-file one -k src)
    : >one/empty
    [[ $(key_of --key-file one -k src) != "$before" ]]
    before=$(key_of --key-file one -k src)
    mkdir one/emptydir
    [[ $(key_of --key-file one -k src) != "$before" ]]
    # A file moved from one directory into another is not the same tree.
    mkdir -p x/p y/q
    printf 'same' >x/p/f
    printf 'same' >y/q/f
    [[ $(key_of --key-file x -k src) != "$(key_of --key-file y -k src)" ]]
}

@test "--key-file: a symlink inside a directory is hashed as its target's name, never followed" {
    mkdir tree
    printf 'one' >outside
    ln -s ../outside tree/link
    local before
    before=$(key_of --key-file tree -k links)
    printf 'two' >outside
    assert_equal "$(key_of --key-file tree -k links)" "$before"
    ln -sfn ../elsewhere tree/link
    [[ $(key_of --key-file tree -k links) != "$before" ]]
    # A loop of links is no loop for the hash.
    ln -s . tree/self
    run --separate-stderr lockrun --key-file tree -k links -- true
    assert_success
    # The path given is followed when it is a symlink itself: the user named it.
    ln -s outside named
    assert_equal "$(key_of --key-file named -k links)" "$(key_of --key-file outside -k links)"
}

@test "--key-env: the value, or its absence; unset, empty and set are three inputs" {
    local unset_key empty_key set_key
    unset_key=$(env -u TARGET "$LOCKRUN" -v --no-cache --key-env TARGET -k build -- true 2>&1 | sed -n 's/^lockrun: \([^ ]*\): using.*/\1/p')
    empty_key=$(TARGET= "$LOCKRUN" -v --no-cache --key-env TARGET -k build -- true 2>&1 | sed -n 's/^lockrun: \([^ ]*\): using.*/\1/p')
    set_key=$(TARGET=x86 "$LOCKRUN" -v --no-cache --key-env TARGET -k build -- true 2>&1 | sed -n 's/^lockrun: \([^ ]*\): using.*/\1/p')
    assert_regex "$unset_key" '^build:in-[0-9a-f]{32}$'
    [[ $unset_key != "$empty_key" && $empty_key != "$set_key" && $unset_key != "$set_key" ]]
    TARGET=x86 counted --key-env TARGET -k build
    TARGET=x86 counted --key-env TARGET -k build
    assert_runs 1
    TARGET=arm counted --key-env TARGET -k build
    assert_runs 2
}

@test "--key-cwd: the same command in two directories is two runs, in one directory a replay" {
    mkdir a b
    (cd a && counted --key-cwd -k make && counted --key-cwd -k make)
    (cd b && counted --key-cwd -k make)
    assert_equal "$(wc -l <a/runs)" 1
    assert_equal "$(wc -l <b/runs)" 1
}

@test "--key-from-command with inputs: cmd:<digest of the argv>:in-<digest of the inputs>" {
    printf 'x' >Makefile
    local key
    key=$(lockrun -v --key-from-command --key-file Makefile -- true 2>&1 | sed -n 's/^lockrun: \([^ ]*\): using.*/\1/p')
    assert_regex "$key" '^cmd:[0-9a-f]{64}:in-[0-9a-f]{32}$'
}

@test "bad inputs: one line, 64, the command not run, nothing held" {
    run --separate-stderr lockrun --key-file missing.json -k bad -c 'touch ran'
    assert_status 64
    assert_one_error_line '^lockrun: --key-file missing.json: No such file or directory$'
    mkfifo pipe
    run --separate-stderr lockrun --key-file pipe -k bad -c 'touch ran'
    assert_status 64
    assert_one_error_line '^lockrun: --key-file pipe: not a regular file or a directory$'
    run --separate-stderr lockrun --key-env 'A=B' -k bad -c 'touch ran'
    assert_status 64
    assert_one_error_line "^lockrun: --key-env 'A=B' is not the name of a variable$"
    run --separate-stderr lockrun --key-env '' -k bad -c 'touch ran'
    assert_status 64
    assert_one_error_line "^lockrun: --key-env needs a value, not ''$"
    printf 'x' >f
    run --separate-stderr lockrun --key-file f -k "$(printf 'k%.0s' {1..500})" -c 'touch ran'
    assert_status 64
    assert_one_error_line '^lockrun: the key is longer than 512 bytes with the 36 bytes of its inputs'
    [ ! -e ran ]
    # Nothing was taken: the key is free.
    run --separate-stderr lockrun status bad --json
    assert_equal "$(jq -r .held <<<"$output")" false
}

@test "--key-file on a 1 GiB file: hashed as a stream, peak RSS bounded" {
    truncate -s 1G big
    /usr/bin/time -f %M -o rss.kib "$LOCKRUN" --key-file big -k big -- true
    local rss
    rss=$(tail -1 rss.kib)
    ((rss < 32 * 1024)) || fail "peak RSS $rss KiB while hashing a 1 GiB input"
}

@test "the README's recipe, run as written: publishing docs once per content of docs/" {
    local recipe
    recipe=$(readme_block "**Run once per input, not per pipeline**")
    [[ $recipe == *"--key-file docs"* ]] || fail "the README's recipe changed: $recipe"
    mkdir docs
    printf '# Guide\n' >docs/index.md
    printf '#!/bin/sh\necho published >>runs\necho published\n' >publish-docs
    chmod +x publish-docs
    DOCS_TARGET=site run_recipe "$recipe"
    assert_equal "$status" 0
    assert_output published
    DOCS_TARGET=site run_recipe "$recipe"
    assert_output published
    assert_runs 1
    printf '# Guide, revised\n' >docs/index.md
    DOCS_TARGET=site run_recipe "$recipe"
    assert_runs 2
}
