// `gongkai verify`'s check of the search index against the catalog, beside
// storage::VerifyArchive (storage/verify.h), which checks the archive itself.
#pragma once

#include <string>

#include "gongkai/config.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/verify.h"

namespace gongkai::daemon {

// Compares the index in `index_dir` with `catalog`: every document has the
// entries BuildIndexDocs() makes of it (same current version, status and
// classification for inspectors and for the public), no document is
// searchable by the public that may not be seen by it, the counts agree, and
// archive members carry their archive's visibility. An index still behind the
// catalog is a warning and is not compared. Adds to `report`; reads
// `catalog` only, so it may run beside VerifyArchive on a connection of its own.
void VerifyIndex(const Config& config, storage::Catalog* catalog, const storage::BlobStore& blobs,
                 const std::string& index_dir, storage::VerifyReport& report);

}  // namespace gongkai::daemon
