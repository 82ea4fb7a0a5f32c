#!/usr/bin/env bats
# The Debian package that `cmake --build BUILD --target package` makes: its files and its
# metadata, read with dpkg-deb. Built from the build tree of the lockrun under test.

load common

setup_file() {
    BUILD_DIR=$(dirname "$LOCKRUN")
    export BUILD_DIR
    [ -f "$BUILD_DIR/CPackConfig.cmake" ] || {
        echo "no CPackConfig.cmake beside $LOCKRUN: build it with CMake" >&2
        return 1
    }
    export PACKAGE_DIR=$BATS_FILE_TMPDIR/package
    mkdir -p "$PACKAGE_DIR"
    (cd "$BUILD_DIR" && cpack -G DEB -B "$PACKAGE_DIR" >"$PACKAGE_DIR/cpack.log" 2>&1) || {
        cat "$PACKAGE_DIR/cpack.log" >&2
        return 1
    }
    DEB=$(ls "$PACKAGE_DIR"/lockrun_*.deb)
    export DEB
}

@test "the package is named lockrun_<version>_<arch>.deb" {
    local version
    version=$("$LOCKRUN" --version | awk '{print $2}')
    [[ $(basename "$DEB") == "lockrun_${version}_$(dpkg --print-architecture).deb" ]]
}

@test "the package installs the binaries, the man page and the completions" {
    run dpkg-deb -c "$DEB"
    assert_success
    assert_line --regexp '^-rwxr-xr-x .* \./usr/bin/lockrun$'
    assert_line --regexp '^-rwxr-xr-x .* \./usr/libexec/lockrun/lockrun-openssl$'
    if [[ -x $BUILD_DIR/lockrun-watcher ]]; then
        assert_line --regexp '^-rwxr-xr-x .* \./usr/libexec/lockrun/lockrun-watcher$'
    fi
    assert_line --regexp ' \./usr/share/man/man1/lockrun\.1\.gz$'
    assert_line --regexp ' \./usr/share/bash-completion/completions/lockrun$'
    assert_line --regexp ' \./usr/share/zsh/vendor-completions/_lockrun$'
}

@test "the package's metadata names it and its one runtime library, libc" {
    run dpkg-deb -f "$DEB" Package Version Architecture Section Depends Description
    assert_success
    assert_line "Package: lockrun"
    assert_line "Section: utils"
    assert_line --regexp '^Depends: libc6 \(>= [0-9.]+\)$'
    assert_line --regexp '^Description: run a command once per key'
}

@test "the binaries load libc alone: hiredis, OpenSSL, libstdc++, spdlog, fmt and toml++ are built in, libm unused" {
    for binary in "$LOCKRUN" "$BUILD_DIR/lockrun-openssl"; do
        run readelf -d "$binary"
        assert_success
        assert_line --regexp '\(NEEDED\).*\[libc\.so\.6\]'
        refute_line --regexp '\(NEEDED\).*\[lib(hiredis|ssl|crypto|stdc\+\+|gcc_s|spdlog|fmt|tomlplusplus|m)\.'
        assert_equal "$(grep -c '(NEEDED)' <<<"$output")" 2  # libc.so.6, ld-linux
    done
    # lockrun-watcher loads nothing at all: static, without libc.
    if [[ -x $BUILD_DIR/lockrun-watcher ]]; then
        run readelf -d "$BUILD_DIR/lockrun-watcher"
        assert_output --partial 'There is no dynamic section'
    fi
}

@test "building the lockrun target alone (scripts/lockrun, scripts/bench) builds its companions too" {
    # A scratch tree of the default preset: the target dependencies are read from the
    # Makefiles that CMake generates (building it would take minutes).
    local tree=$BATS_TEST_TMPDIR/default
    cmake --preset default -G "Unix Makefiles" -S "$BATS_TEST_DIRNAME/../.." -B "$tree" \
        >"$tree.log" 2>&1 || { cat "$tree.log" >&2; return 1; }
    run grep '^CMakeFiles/lockrun\.dir/all: ' "$tree/CMakeFiles/Makefile2"
    assert_success
    assert_line 'CMakeFiles/lockrun.dir/all: CMakeFiles/lockrun-openssl.dir/all'
    case $(uname -m) in
        x86_64 | aarch64) assert_line 'CMakeFiles/lockrun.dir/all: CMakeFiles/lockrun-watcher.dir/all' ;;
    esac
}

@test "the packaged man page is the one in the tree, and the packaged lockrun runs" {
    local unpacked=$BATS_TEST_TMPDIR/unpacked
    dpkg-deb -x "$DEB" "$unpacked"
    run cmp <(gzip -dc "$unpacked/usr/share/man/man1/lockrun.1.gz") "$BATS_TEST_DIRNAME/../../man/lockrun.1"
    assert_success
    run "$unpacked/usr/bin/lockrun" --version
    assert_success
    assert_output --regexp '^lockrun [0-9]+\.[0-9]+\.[0-9]+$'
    # The installed lockrun finds its lockrun-openssl, for the runs that need OpenSSL.
    head -c 32 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/cache.key"
    run "$unpacked/usr/bin/lockrun" --state-dir "$BATS_TEST_TMPDIR/state" \
        --cache-key-file "$BATS_TEST_TMPDIR/cache.key" -k packaged -- \
        sh -c 'readlink /proc/$PPID/exe'
    assert_success
    assert_output "$unpacked/usr/libexec/lockrun/lockrun-openssl"
}

@test "the bash completion offers the subcommands and the options" {
    run bash -c "source '$BATS_TEST_DIRNAME/../../packaging/completions/lockrun.bash' 2>/dev/null
        _init_completion() { cur=\${COMP_WORDS[COMP_CWORD]}; prev=\${COMP_WORDS[COMP_CWORD-1]}; words=(\"\${COMP_WORDS[@]}\"); cword=\$COMP_CWORD; }
        COMP_WORDS=(lockrun st); COMP_CWORD=1; _lockrun; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(lockrun --on-lock-lost ''); COMP_CWORD=2; _lockrun; echo \"\${COMPREPLY[*]}\""
    assert_success
    assert_line status
    assert_line "term kill ignore"
}
