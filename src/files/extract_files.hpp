#pragma once
// The extracting half of --files (SPEC §1): a stored archive written into the working
// directory, never outside it. Everything is first extracted into a new directory beside
// the files (libarchive, with its secure flags, and checks of our own before it), then each
// path is renamed to its final name: a caller never sees a half-written file, and an
// archive with one entry refused writes nothing at all.

#include "core/shared_files.hpp"

namespace lockrun {

// `preserve_owner`: --files-preserve-owner, the archived owners restored (root only).
ExtractedFiles extract_files(const CachedResult& result, bool preserve_owner);

}  // namespace lockrun
