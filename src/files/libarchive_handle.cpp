#include "files/libarchive_handle.hpp"

namespace lockrun {

void FreeArchive::operator()(archive* handle) const {
    // archive_read_free() and archive_write_free() both dispatch on the handle's kind.
    archive_free(handle);
}

std::string archive_error(archive* handle) {
    const char* text = archive_error_string(handle);
    return text != nullptr ? text : "unknown error";
}

}  // namespace lockrun
