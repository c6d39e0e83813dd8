#pragma once

// fsync by path, for files written beside the store (the ATNA position file) and for the folders
// whose new entries must survive a power cut with the files they name.

#include <string>

#include "fhirbridge/status.h"

namespace fhirbridge {

/// fsync of the file (or folder) at `path`; Unavailable naming the path and the reason.
Status SyncPath(const std::string& path);

/// fsync of the folder that holds `path` ("." for a bare file name).
Status SyncFolderOf(const std::string& path);

}  // namespace fhirbridge
