#pragma once

// `fhirbridge audit verify`: walks the whole audit chain of a store and says whether it is
// intact, or names the first bad entry and what is wrong with it (docs/audit.md, Verifying).

#include <cstdint>
#include <string>

#include "engine/store/audit_chain.h"
#include "fhirbridge/result.h"

namespace fhirbridge::store {

struct AuditVerifyReport {
  bool intact = false;
  std::int64_t entries = 0;
  std::int64_t checkpoints = 0;
  std::int64_t head_entry = 0;  ///< the entry the head names
  std::string last_hash;
  bool signatures_checked = false;  ///< false when neither checkpoints nor head are signed
  /// When not intact: the first bad entry (or checkpoint, for checkpoint problems) ...
  std::int64_t bad_id = 0;
  std::string bad_what;  ///< "entry 17", "checkpoint 3" or "the head"
  /// ... the kind of problem: "content changed", "entry missing", "entry inserted",
  /// "order changed", "prev_hash mismatch", "checkpoint signature invalid", "checkpoint refers
  /// to a missing entry", "checkpoint hash mismatch", "head signature invalid", "chain
  /// truncated", "no key"
  std::string problem;
  std::string explanation;  ///< one sentence for people
};

/// Verifies the chain in the store at `path` (opened query-only; safe while the service runs,
/// WAL readers see the last commit). `key` checks checkpoint and head signatures; null when
/// no key is known, which fails a store whose chain is signed ("no key").
Result<AuditVerifyReport> VerifyAuditChain(const std::string& path, const AuditKey* key);

}  // namespace fhirbridge::store
