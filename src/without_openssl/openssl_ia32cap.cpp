// The lockrun without OpenSSL links OpenSSL's SHA-256 and SHA-1 alone (util/digest.hpp), and
// with them, on x86-64, the object that defines OPENSSL_ia32cap_P and OPENSSL_cleanse. That
// object's initialiser asks the CPU what it has with the CPUID instruction, about a dozen
// times, and under a hypervisor every CPUID traps to it (3.6 µs each on the bench's VM):
// ~40 µs of every run's ~2 ms, for the hash of a key. glibc has asked already, before main,
// and tells what it found (<sys/platform/x86.h>). Defining those two symbols here keeps
// that object out; the capability vector is filled from glibc's answers, in the layout that
// OpenSSL documents for it (OPENSSL_ia32cap(3)), with the features by which both hashes
// choose their code: the SHA extensions, AVX2 with BMI1 and BMI2, SSSE3. A feature left out
// makes a hash take a slower path, never one the CPU lacks. lockrun-openssl, which links
// all of OpenSSL, keeps OpenSSL's own initialiser.
#if defined(__x86_64__) && LOCKRUN_OPENSSL_STATIC
#include <sys/platform/x86.h>

#include <cstring>

extern "C" {

unsigned int OPENSSL_ia32cap_P[4];

void OPENSSL_cleanse(void* bytes, std::size_t length) {
    ::explicit_bzero(bytes, length);
}

}  // extern "C"

namespace lockrun {
namespace {

// Runs before main, as OpenSSL's initialiser would have: the hashes read the vector at
// every block.
[[gnu::constructor]] void fill_openssl_ia32cap() {
    constexpr unsigned k_ssse3 = 1U << 9;  // word 1: CPUID.1:ECX
    constexpr unsigned k_bmi1 = 1U << 3;   // word 2: CPUID.7.0:EBX
    constexpr unsigned k_avx2 = 1U << 5;
    constexpr unsigned k_bmi2 = 1U << 8;
    constexpr unsigned k_sha = 1U << 29;
    if (CPU_FEATURE_ACTIVE(SSSE3)) OPENSSL_ia32cap_P[1] |= k_ssse3;
    if (CPU_FEATURE_ACTIVE(BMI1)) OPENSSL_ia32cap_P[2] |= k_bmi1;
    if (CPU_FEATURE_ACTIVE(AVX2)) OPENSSL_ia32cap_P[2] |= k_avx2;
    if (CPU_FEATURE_ACTIVE(BMI2)) OPENSSL_ia32cap_P[2] |= k_bmi2;
    if (CPU_FEATURE_ACTIVE(SHA)) OPENSSL_ia32cap_P[2] |= k_sha;
}

}  // namespace
}  // namespace lockrun
#endif
