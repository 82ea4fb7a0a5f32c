// A floor as lockrun is linked, for scripts/bench: floor-guard.c's (or floor-single-flight.c's)
// main, unchanged,
// in a binary built the way CMakeLists.txt builds lockrun (position-independent, libstdc++
// and OpenSSL's libssl/libcrypto linked statically, relative relocations packed, unused
// sections dropped). It never calls OpenSSL or the C++ streams; the branch that names them
// keeps them in the binary, as lockrun keeps its TLS client, so that what every start of
// such a binary costs (the loader relocating OpenSSL's tables, the C++ runtime's set-up) is
// measured apart from lockrun's own code.
//   floor-linked STATE COMMAND [ARG...]     (compiled with floor-guard.c -Dmain=floor_main)
#include <openssl/ssl.h>

#include <iostream>

extern "C" int floor_main(int argc, char** argv);

int main(int argc, char** argv) {
    if (argc < 0) {  // never true; the compiler cannot know it
        SSL_CTX_free(SSL_CTX_new(TLS_client_method()));
        std::cout << argv[0] << std::endl;
    }
    return floor_main(argc, argv);
}
