#pragma once

// Names the engine's threads so that `top -H`, `ps -L` and perf tell them apart.

#include <pthread.h>

namespace fhirbridge {

/// Names the calling thread. Linux keeps 15 characters; a longer name is refused, so keep them
/// short ("fb-" + role). A failure only leaves the default name.
inline void NameThisThread(const char* name) { (void)::pthread_setname_np(::pthread_self(), name); }

}  // namespace fhirbridge
