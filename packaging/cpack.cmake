# The Debian package: `cmake --build build --target package` makes lockrun_<version>_<arch>.deb
# with the binary, the man page and the shell completions; its runtime dependencies are
# computed from the binary by dpkg-shlibdeps.

# Debian ships man pages compressed (gzip -n: no time stamp, so the package is reproducible).
add_custom_command(
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/lockrun.1.gz
    COMMAND gzip -9nc ${CMAKE_CURRENT_SOURCE_DIR}/man/lockrun.1 > ${CMAKE_CURRENT_BINARY_DIR}/lockrun.1.gz
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/man/lockrun.1)
add_custom_target(man_page ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/lockrun.1.gz)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lockrun.1.gz DESTINATION share/man/man1)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/completions/lockrun.bash
        DESTINATION share/bash-completion/completions RENAME lockrun)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/completions/_lockrun
        DESTINATION share/zsh/vendor-completions)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md DESTINATION share/doc/lockrun)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lockrun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "lockrun developers <dev@lockrun.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "run a command once per key across machines, and share its result")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "lockrun wraps cron jobs, CI steps and shell scripts so that exactly one copy of a
command runs per key at a time, across every host that shares a Redis server (or on one
machine through an embedded flock backend), and every concurrent or later caller replays
its stdout and exit code instead of running it again.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://lockrun.invalid")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_STRIP_FILES ON)
include(CPack)
