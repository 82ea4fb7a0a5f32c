#!/usr/bin/env bats
# --files (SPEC §1): the files a run produces are archived with its result, and every
# caller that replays it, a waiter or a later caller, gets them in its own working
# directory, never outside it, before the output is printed.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    mkdir ws ws2
}
teardown() { per_test_teardown; }

# A CI-like build of dist/: a tree with modes, a symlink, an empty directory, a setuid
# file, a larger file; each run appends a line to ../runs.
BUILD='echo run >> ../runs; mkdir -p dist/lib/empty dist/bin
printf "app\n" > dist/bin/app; chmod 755 dist/bin/app; touch -d "2020-01-02 03:04:05" dist/bin/app
printf "private\n" > dist/lib/secret; chmod 600 dist/lib/secret
printf "suid\n" > dist/bin/suid; chmod 4755 dist/bin/suid
head -c 300000 /dev/urandom > dist/lib/blob
ln -s bin/app dist/current
echo built dist'

# tree_of DIR: every path under DIR with its type, mode and size (symlinks: their target),
# sorted, for comparing trees.
tree_of() {
    (cd "$1" && find . -printf '%y %m %s %p -> %l\n' | sort)
}

# record_of KEY FILE: KEY's stored record (the local result file without its 12-byte
# header) into FILE.
record_of() {
    if backend_is local; then
        tail -c +13 "$(state_file "$1" out)" >"$2"
    else
        rcli GET "$(out_key "$1")" | head -c -1 >"$2"
    fi
}

# store_record KEY FILE: FILE as KEY's stored record, fresh for 5 minutes.
store_record() {
    if backend_is local; then
        local out
        out=$(state_file "$1" out)
        { head -c 12 "$out"; cat "$2"; } >forged.out
        install -m 600 forged.out "$out"
    else
        rcli -x SET "$(out_key "$1")" <"$2" >/dev/null
        rcli PEXPIRE "$(out_key "$1")" 300000 >/dev/null
    fi
}

@test "ten concurrent callers with --files dist: one build, ten identical dist trees, modes kept" {
    local i
    for i in $(seq 1 10); do
        mkdir "c$i"
        spawn "caller$i" env -C "c$i" "$LOCKRUN" --wait 60 --key files:ci --files dist -c "sleep 1; $BUILD"
    done
    for i in $(seq 1 10); do
        assert_exit "caller$i" 0 90
    done
    assert_equal "runs: $(wc -l <runs)" "runs: 1"
    # The caller that ran keeps its setuid file; the others get it without the bit.
    local trees first
    trees=$(for i in $(seq 1 10); do tree_of "c$i/dist" | { grep -c '^f 4755 5 \./bin/suid' || true; }; done)
    assert_equal "setuid kept in $(grep -c 1 <<<"$trees") of 10" "setuid kept in 1 of 10"
    first=$(tree_of c1/dist | sed 's/^f 4755/f 755/' | sort)
    assert_regex "$first" 'f 755 4 \./bin/app'
    assert_regex "$first" 'f 600 8 \./lib/secret'
    assert_regex "$first" 'l 777 7 \./current -> bin/app'
    assert_regex "$first" 'd 755 [0-9]+ \./lib/empty'
    for i in $(seq 2 10); do
        assert_equal "$(tree_of "c$i/dist" | sed 's/^f 4755/f 755/' | sort)" "$first"
        diff -r --no-dereference c1/dist "c$i/dist" || fail "c$i/dist differs from c1/dist"
        assert_equal "$(cat "caller$i.out")" "built dist"
        [[ -z $(find "c$i" -maxdepth 1 -name '.lockrun-files-*') ]] || fail "a staging directory is left in c$i"
    done
}

@test "a later caller gets the files from the store, setuid bits dropped, times kept" {
    cd ws
    run --separate-stderr lockrun --key files:later --files dist -c "$BUILD"
    assert_status 0
    cd ../ws2
    run --separate-stderr lockrun --key files:later --files dist -c "$BUILD"
    assert_status 0
    assert_output "built dist"
    assert_regex "$stderr" 'replayed the run of'
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
    assert_equal "$(stat -c %a dist/bin/suid)" 755
    assert_equal "$(stat -c %a dist/bin/app) $(date -r dist/bin/app +%Y-%m-%dT%H:%M:%S)" "755 2020-01-02T03:04:05"
    assert_equal "$(cmp dist/lib/blob ../ws/dist/lib/blob && echo same)" same
    # status names the files stored with the result.
    run lockrun status files:later
    assert_output --regexp 'and --files dist \([0-9.]+[KM]iB archived\)'
    run lockrun status files:later --json
    assert_equal "$(jq -c .cache.files <<<"$output")" '["dist"]'
    assert_equal "$(jq '.cache.files_archive_bytes > 300000' <<<"$output")" true
}

@test "the files are in place before the output is printed" {
    cd ws
    lockrun --key files:order --files dist -c 'echo run >> ../runs; mkdir dist; echo 42 > dist/answer; echo done' >/dev/null
    cd ../ws2
    # The reader of the output looks for the file as soon as the first line arrives.
    run bash -c "'$LOCKRUN' --key files:order --files dist -c false 2>/dev/null | { read -r line; cat dist/answer; }"
    assert_status 0
    assert_output 42
}

@test "files already there are kept, files of the result replace theirs whole" {
    cd ws
    lockrun --key files:merge --files dist -c "$BUILD" >/dev/null
    cd ../ws2
    mkdir -p dist/bin dist/mine
    echo mine >dist/mine/keep
    echo old >dist/bin/app
    run --separate-stderr lockrun --key files:merge --files dist -c "$BUILD"
    assert_status 0
    assert_equal "$(cat dist/mine/keep)" mine
    assert_equal "$(cat dist/bin/app)" app
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
}

@test "a path missing after the run: one warning, the result is stored without it" {
    cd ws
    run --separate-stderr lockrun --key files:missing --files dist --files report.xml -c "$BUILD"
    assert_status 0
    assert_output "built dist"
    assert_one_error_line 'report\.xml does not exist after the run'
    cd ../ws2
    run --separate-stderr lockrun --key files:missing --files dist --files report.xml -c "$BUILD"
    assert_status 0
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
    assert [ -f dist/bin/app ]
    assert [ ! -e report.xml ]
}

@test "a directory in the way of a file: exit 73, one line naming it, nothing half-written" {
    cd ws
    lockrun --key files:inway --files dist -c "$BUILD" >/dev/null
    cd ../ws2
    mkdir -p dist/bin/app
    run --separate-stderr lockrun --key files:inway --files dist -c "$BUILD"
    assert_status 73
    assert_output ''
    assert_one_error_line 'dist/bin/app is in the way'
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
    [[ -z $(find . -name '.lockrun-files-*') ]] || fail "a staging directory is left"
    # Every file that was put in place is whole.
    if [[ -e dist/lib/blob ]]; then
        assert_equal "$(cmp dist/lib/blob ../ws/dist/lib/blob && echo same)" same
    fi
    assert_nothing_held
}

@test "a file where a directory goes, and a symlinked directory: exit 73, nothing written through it" {
    cd ws
    lockrun --key files:file-in-way --files dist -c "$BUILD" >/dev/null
    cd ../ws2
    echo "not a directory" >dist
    run --separate-stderr lockrun --key files:file-in-way --files dist -c "$BUILD"
    assert_status 73
    assert_one_error_line 'dist is in the way.*not a directory'
    assert_equal "$(cat dist)" "not a directory"
    rm dist
    mkdir ../elsewhere
    ln -s ../elsewhere dist
    run --separate-stderr lockrun --key files:file-in-way --files dist -c "$BUILD"
    assert_status 73
    assert_one_error_line 'dist is in the way.*symlink'
    assert_equal "elsewhere: $(ls -A ../elsewhere)" "elsewhere: "
}

@test "a working directory that cannot be written: exit 73" {
    [[ $(id -u) != 0 ]] || skip "root writes into a read-only directory"
    cd ws
    lockrun --key files:ro --files dist -c "$BUILD" >/dev/null
    cd ../ws2
    chmod 555 .
    run --separate-stderr lockrun --key files:ro --files dist -c "$BUILD"
    chmod 755 .
    assert_status 73
    assert_one_error_line 'cannot make a directory here'
}

@test "a result stored without --files is not replayed to a caller that asks for files" {
    cd ws
    lockrun --key files:mismatch -c "$BUILD" >/dev/null
    cd ../ws2
    run --separate-stderr lockrun --key files:mismatch --files dist -c "$BUILD"
    assert_status 0
    assert_one_error_line 'stored without --files, not --files dist; running the command'
    assert_equal "runs: $(wc -l <../runs)" "runs: 2"
    assert [ -f dist/bin/app ]
    # Its run stored the files: the next caller replays them.
    rm -rf dist
    run --separate-stderr lockrun --key files:mismatch --files dist -c "$BUILD"
    assert_equal "runs: $(wc -l <../runs)" "runs: 2"
    assert [ -f dist/bin/app ]
    # A caller that does not ask for the files gets the output only.
    cd .. && mkdir ws3 && cd ws3
    run --separate-stderr lockrun --key files:mismatch -c "$BUILD"
    assert_output "built dist"
    assert [ ! -e dist ]
}

@test "a failed run shares no files; with --cache-failures it stores them" {
    cd ws
    run --separate-stderr lockrun --key files:failed --files dist -c "$BUILD; exit 3"
    assert_status 3
    cd ../ws2
    run --separate-stderr lockrun --key files:failed --files dist -c "$BUILD; exit 3"
    assert_status 3
    assert_equal "runs: $(wc -l <../runs)" "runs: 2"
    rm -rf dist
    run --separate-stderr lockrun --cache-failures --key files:failed2 --files dist -c "$BUILD; exit 3"
    cd ../ws
    rm -rf dist
    run --separate-stderr lockrun --cache-failures --key files:failed2 --files dist -c "$BUILD; exit 3"
    assert_status 3
    assert_equal "runs: $(wc -l <../runs)" "runs: 3"
    assert [ -f dist/bin/app ]
}

@test "files over --cache-max-bytes: one warning, nothing stored, the next caller runs" {
    cd ws
    run --separate-stderr lockrun --cache-max-bytes 100KiB --key files:big --files dist -c "$BUILD"
    assert_status 0
    assert_one_error_line 'not caching the result of files:big: its output and --files are over --cache-max-bytes'
    cd ../ws2
    run --separate-stderr lockrun --cache-max-bytes 100KiB --key files:big --files dist -c "$BUILD"
    assert_equal "runs: $(wc -l <../runs)" "runs: 2"
}

@test "a file that cannot be read: one warning, nothing stored" {
    [[ $(id -u) != 0 ]] || skip "root reads a file of mode 000"
    cd ws
    run --separate-stderr lockrun --key files:unreadable --files dist -c 'mkdir dist; echo x > dist/x; chmod 000 dist/x'
    assert_one_error_line 'could not be archived.*dist/x'
}

@test "--files-preserve-owner restores the archived owner; without it the caller owns the files" {
    [[ $(id -u) == 0 ]] || skip "only root can give files to another user"
    cd ws
    lockrun --key files:owner --files dist -c 'mkdir dist; echo x > dist/x; chown 65534:65534 dist/x' >/dev/null
    cd ../ws2
    lockrun --key files:owner --files dist --files-preserve-owner -c false >/dev/null
    assert_equal "$(stat -c %u:%g dist/x)" 65534:65534
    rm -rf dist
    lockrun --key files:owner --files dist -c false >/dev/null
    assert_equal "$(stat -c %u:%g dist/x)" "$(id -u):$(id -g)"
}

# forge_archive KEY NAME: KEY's stored record with its archive replaced by NAME.tar.
forge_archive() {
    record_of "$1" good.rec
    "$BATS_TEST_DIRNAME/files_record.py" good.rec "$2.tar" forged.rec
    store_record "$1" forged.rec
}

# assert_refused_then_run KEY: a caller of KEY warns once that the archive is refused,
# writes nothing, runs the command instead, and its result replaces the forged one.
assert_refused_then_run() {
    cd ws2
    run --separate-stderr lockrun --key "$1" --files dist -c 'echo run >> ../runs; mkdir dist; echo good > dist/ok; echo fresh'
    cd ..
    assert_status 0
    assert_output fresh
    assert_one_error_line 'its --files archive is refused'
    assert_equal "runs: $(wc -l <runs)" "runs: 1"
    assert_equal "$(ls -A ws2)" dist
    assert_equal "$(ls -A ws2/dist)" ok
}

@test "crafted archives are refused whole: ../escape, an absolute path, a path through a symlink, a device, a path outside --files" {
    local outside=$BATS_TEST_TMPDIR/outside
    mkdir "$outside" crafted
    python3 - "$outside" <<'EOF'
import io, sys, tarfile
outside = sys.argv[1]
def archive(name, entries):
    with tarfile.open(name + ".tar", "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
def file(name, data=b"pwned\n"):
    info = tarfile.TarInfo(name); info.size = len(data); return info, data
def link(name, target):
    info = tarfile.TarInfo(name); info.type = tarfile.SYMTYPE; info.linkname = target; return info, None
def device(name):
    info = tarfile.TarInfo(name); info.type = tarfile.CHRTYPE; info.devmajor, info.devminor = 1, 3; return info, None
archive("dotdot", [file("dist/ok"), file("dist/../../escape")])
archive("absolute", [file("dist/ok"), file(outside + "/abs")])
archive("through", [file("dist/ok"), link("dist/link", outside), file("dist/link/pwned")])
archive("device", [file("dist/ok"), device("dist/null")])
archive("beside", [file("dist/ok"), file("elsewhere/pwned")])
archive("hardlink", [file("dist/ok"), (lambda i: (setattr(i, "type", tarfile.LNKTYPE), setattr(i, "linkname", outside + "/target"), (i, None))[2])(tarfile.TarInfo("dist/hard"))])
EOF
    touch "$outside/target"
    local name
    for name in dotdot absolute through device beside hardlink; do
        rm -rf ws ws2 runs && mkdir ws ws2
        (cd ws && lockrun --key "files:$name" --files dist -c 'mkdir dist; echo good > dist/ok' >/dev/null)
        forge_archive "files:$name" "$name"
        assert_refused_then_run "files:$name"
        assert_equal "outside after $name: $(ls -A "$outside")" "outside after $name: target"
        [[ ! -e escape && ! -e $BATS_TEST_TMPDIR/../escape ]] || fail "$name wrote ../escape"
        assert_equal "$(cat "$outside/target")" ""
    done
}

@test "a damaged archive frame is refused when it is extracted: one warning, the command runs" {
    cd ws
    lockrun --key files:damaged --files dist -c 'mkdir dist; echo good > dist/ok' >/dev/null
    cd ..
    record_of files:damaged good.rec
    # The last bytes are the frame's checksum.
    python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[-1] ^= 0xFF; open(sys.argv[2], "wb").write(d)' good.rec bad.rec
    store_record files:damaged bad.rec
    cd ws2
    run --separate-stderr lockrun --key files:damaged --files dist -c 'echo run >> ../runs; mkdir dist; echo good > dist/ok; echo fresh'
    assert_status 0
    assert_output fresh
    assert_one_error_line 'its --files archive is refused \(the archive: .*checksum'
    assert [ ! -e dist/evil ]
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
}

@test "bad --files values: exit 64, one line, nothing held" {
    assert_rejected 64 'relative to the working directory' --key k --files /etc -c 'touch ran'
    assert_rejected 64 'inside the working directory' --key k --files ../x -c 'touch ran'
    assert_rejected 64 'inside the working directory' --key k --files dist/../../x -c 'touch ran'
    assert_rejected 64 'not the directory itself' --key k --files ./ -c 'touch ran'
    assert_rejected 64 'dist/a is inside --files dist' --key k --files dist --files dist/a -c 'touch ran'
    assert_rejected 64 'no-cache turns off' --key k --no-cache --files dist -c 'touch ran'
    assert_rejected 64 'needs a value' --key k --files '' -c 'touch ran'
}

@test "a --no-cache of the environment yields to --files, with a warning" {
    cd ws
    LOCKRUN_NO_CACHE=1 run --separate-stderr lockrun --key files:env --files dist -c "$BUILD"
    assert_status 0
    assert_one_error_line 'LOCKRUN_NO_CACHE is not applied'
    cd ../ws2
    run --separate-stderr lockrun --key files:env --files dist -c "$BUILD"
    assert [ -f dist/bin/app ]
    assert_equal "runs: $(wc -l <../runs)" "runs: 1"
}

@test "the README's CI recipe, as written, in clean directories: one build, every pipeline has dist/" {
    local recipe
    recipe=$(readme_block "**CI step deduplication.**")
    assert_regex "$recipe" '--files dist'
    local makefile=$'dist:\n\techo build >> ../runs\n\tmkdir -p dist && echo "app" > dist/app && chmod 755 dist/app\n'
    local pipeline
    for pipeline in p1 p2; do
        mkdir "$pipeline"
        printf '%s' "$makefile" >"$pipeline/Makefile"
        (cd "$pipeline" && CI_COMMIT_SHA=0123abc run_recipe "$recipe" && echo "$status" >status)
        assert_equal "$pipeline: exit $(cat "$pipeline/status")" "$pipeline: exit 0"
        assert_equal "$(cat "$pipeline/dist/app")" app
        assert_equal "$(stat -c %a "$pipeline/dist/app")" 755
    done
    assert_equal "builds: $(wc -l <runs)" "builds: 1"
    assert_regex "$(cat p2/recipe.err)" 'replayed the run of'
}

@test "under --cache-key-file, a signed record whose archive was replaced is a miss: nothing is extracted" {
    # Text, as the README makes one: raw bytes may end in a newline, which a key file drops.
    head -c 32 /dev/urandom | base64 >cache.key
    chmod 600 cache.key
    (cd ws && lockrun --cache-key-file ../cache.key --key files:signed --files dist -c 'mkdir dist; echo good > dist/ok' >/dev/null)
    record_of files:signed sealed.rec
    # "LKRS", the 32-byte tag and the expiry, then the record: its archive replaced, the tag kept.
    assert_equal "$(head -c 4 sealed.rec)" LKRS
    tail -c +45 sealed.rec >inner.rec
    mkdir -p evil/dist && echo evil >evil/dist/evil && tar -cf evil.tar -C evil dist
    "$BATS_TEST_DIRNAME/files_record.py" inner.rec evil.tar forged-inner.rec
    { head -c 44 sealed.rec; cat forged-inner.rec; } >forged.rec
    store_record files:signed forged.rec
    cd ws2
    run --separate-stderr lockrun --cache-key-file ../cache.key --key files:signed --files dist -c 'echo run >> ../runs; mkdir dist; echo good > dist/ok; echo fresh'
    assert_status 0
    assert_output fresh
    assert_one_error_line 'signature does not verify'
    assert [ ! -e dist/evil ]
    assert_equal "$(cat dist/ok)" good
}

@test "five callers replaying into one directory at once all get the files" {
    (cd ws && lockrun --key files:same-dir --files dist -c "$BUILD" >/dev/null)
    local i
    for i in 1 2 3 4 5; do
        spawn "replay$i" env -C ws2 "$LOCKRUN" --key files:same-dir --files dist -c "$BUILD"
    done
    for i in 1 2 3 4 5; do
        assert_exit "replay$i" 0 30
        assert_equal "$(cat "replay$i.out")" "built dist"
    done
    assert_equal "runs: $(wc -l <runs)" "runs: 1"
    diff -r --no-dereference ws/dist ws2/dist | grep -v suid || true
    assert_equal "$(cmp ws/dist/lib/blob ws2/dist/lib/blob && echo same)" same
    [[ -z $(find ws2 -maxdepth 1 -name '.lockrun-files-*') ]] || fail "a staging directory is left"
}
