#pragma once

// The store's tables (docs/store.md) and their migration at start-up.

#include "engine/store/sqlite_db.h"

namespace fhirbridge::store {

/// The schema version this build writes.
inline constexpr int kSchemaVersion = 5;

/// Creates the tables of a new store, or upgrades an older one step by step, in one
/// transaction. A store written by a newer build is refused (FailedPrecondition).
Status MigrateSchema(SqliteDb& db);

}  // namespace fhirbridge::store
