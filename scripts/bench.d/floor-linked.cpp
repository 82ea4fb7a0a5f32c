// A floor as lockrun is linked, for scripts/bench: floor-guard.c's (or floor-single-flight.c's)
// main, unchanged, in a binary built the way CMakeLists.txt builds lockrun (position-
// independent, libstdc++ linked statically, relative relocations packed, unused sections
// dropped; like lockrun, no OpenSSL but its SHA-256, which lockrun-openssl alone adds to, and
// without OpenSSL's CPU probe: scripts/bench links src/without_openssl/openssl_ia32cap.cpp).
// It never calls SHA-256 or a C++ stream; the branch that names them keeps them in the
// binary, as lockrun keeps its own, so that what every start of such a binary costs (the
// loader's relocations, the C++ runtime's set-up) is measured apart from lockrun's own code.
//   floor-linked STATE COMMAND [ARG...]     (compiled with floor-guard.c -Dmain=floor_main)
//
// Built with FLOOR_PARSES_OPTIONS, it first parses lockrun's own words with CLI11, the option
// parser lockrun must use (a fixed choice of the project), registering the options given and
// nothing else, as lockrun does for a run; then it does the same guard:
//   floor-options (--state-dir DIR | --redis redis://HOST:PORT) -k KEY [--no-cache] [-w S]
//                 -- COMMAND [ARG...]       (the lock: DIR/KEY, or KEY in Redis on PORT)
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <sstream>
#ifdef FLOOR_PARSES_OPTIONS
#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli11.hpp"  // CLI11 as lockrun includes it (without <iostream>'s set-up)
#endif

extern "C" int floor_main(int argc, char** argv);

int main(int argc, char** argv) {
    if (argc < 0) {  // never true; the compiler cannot know it
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256_CTX context;  // as lockrun's util/digest.cpp: SHA256() would bring EVP's providers
        SHA256_Init(&context);
        SHA256_Update(&context, argv[0], 1);
        SHA256_Final(digest, &context);
        std::ostringstream text;  // as lockrun prints: the streams' code, not <iostream>'s set-up
        text << argv[0] << digest[0];
        return static_cast<int>(text.str().size());
    }
#ifdef FLOOR_PARSES_OPTIONS
    CLI::App app{"floor-options", "floor-options"};
    std::string state_dir, redis, key, wait;
    bool no_cache = false;
    app.add_option("--state-dir", state_dir);
    app.add_option("--redis", redis);
    app.add_option("-k,--key", key)->required();
    app.add_flag("--no-cache", no_cache);
    app.add_option("-w,--wait", wait);
    app.prefix_command();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "floor-options: %s\n", e.what());
        return 64;
    }
    std::vector<std::string> words = app.remaining();
    if (!words.empty() && words.front() == "--") words.erase(words.begin());
    std::string state = redis.empty() ? state_dir + "/" + key
                                      : "redis:" + redis.substr(redis.rfind(':') + 1) + ":" + key;
    std::vector<char*> floor_argv{argv[0], state.data()};
    for (std::string& word : words) floor_argv.push_back(word.data());
    floor_argv.push_back(nullptr);
    return floor_main(static_cast<int>(floor_argv.size() - 1), floor_argv.data());
#else
    return floor_main(argc, argv);
#endif
}
