#pragma once
// The open-file-description locks of byte ranges (fcntl(2) F_OFD_*) that the local backend
// takes: a semaphore's slots, a live file's holder and its followers' places.

#include <fcntl.h>

namespace lockrun {

// The lock of `length` bytes from `start`, as fcntl(2) takes it.
inline struct flock byte_range(short type, off_t start, off_t length = 1) {
    struct flock range {};
    range.l_type = type;
    range.l_whence = SEEK_SET;
    range.l_start = start;
    range.l_len = length;
    return range;
}

}  // namespace lockrun
