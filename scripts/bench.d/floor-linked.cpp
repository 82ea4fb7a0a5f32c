// A floor as lockrun is linked, for scripts/bench: floor-guard.c's (or floor-single-flight.c's)
// main, unchanged, in a binary built the way CMakeLists.txt builds lockrun (position-
// independent, libstdc++ linked statically, relative relocations packed, unused sections
// dropped; like lockrun, no OpenSSL but its SHA-256, which lockrun-openssl alone adds to, and
// without OpenSSL's CPU probe: scripts/bench links src/without_openssl/openssl_ia32cap.cpp).
// It never calls SHA-256 or a C++ stream; the branch that names them keeps them in the
// binary, as lockrun keeps its own, so that what every start of such a binary costs (the
// loader's relocations, the C++ runtime's set-up) is measured apart from lockrun's own code.
//   floor-linked STATE COMMAND [ARG...]     (compiled with floor-guard.c -Dmain=floor_main)
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <sstream>

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
    return floor_main(argc, argv);
}
