#include "engine/store/audit_verify.h"

#include <optional>
#include <unordered_map>

#include "engine/store/sqlite_db.h"
#include "engine/store/statements.h"

namespace fhirbridge::store {

namespace {

// Entries are found by their stored hash when a link points somewhere unexpected (order
// changed, entry inserted). The first 16 hex digits identify an entry well enough for naming
// it and keep the index at ~40 bytes per entry.
std::uint64_t HashKey(std::string_view hex) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < 16 && i < hex.size(); ++i) {
    const char c = hex[i];
    key = key * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return key;
}

class Walker {
 public:
  Walker(SqliteDb& db, AuditVerifyReport& report) : db_(db), report_(report) {}

  /// Walks every entry; false (with the report filled) at the first bad one.
  Result<bool> Walk() {
    FHIRBRIDGE_RETURN_IF_ERROR(IndexHashes());
    Result<Statement> q =
        db_.Prepare("SELECT " + std::string(kAuditColumns) + " FROM audit ORDER BY id");
    if (!q.ok()) return q.status();
    std::optional<AuditRecord> current = Next(*q);
    if (!status_.ok()) return status_;
    while (current) {
      std::optional<AuditRecord> next = Next(*q);
      if (!status_.ok()) return status_;
      if (!Check(*current, next ? &*next : nullptr)) return false;
      ++report_.entries;
      prev_ = std::move(current);
      current = std::move(next);
    }
    report_.last_hash = prev_ ? prev_->hash : std::string();
    return true;
  }

  std::int64_t last_id() const { return prev_ ? prev_->id : 0; }

 private:
  Status IndexHashes() {
    Result<Statement> q = db_.Prepare("SELECT id, hash FROM audit");
    if (!q.ok()) return q.status();
    for (;;) {
      Result<bool> row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
      by_hash_[HashKey(q->View(1))] = q->Int(0);
    }
  }

  std::optional<AuditRecord> Next(Statement& q) {
    Result<bool> row = q.Step();
    if (!row.ok()) {
      status_ = row.status();
      return std::nullopt;
    }
    if (!*row) return std::nullopt;
    return ReadAuditRow(q);
  }

  bool Fail(std::int64_t id, std::string problem, std::string explanation) {
    report_.bad_id = id;
    report_.bad_what = "entry " + std::to_string(id);
    report_.problem = std::move(problem);
    report_.explanation = std::move(explanation);
    return false;
  }

  // The order of the tests decides what a damage is called; each case is the simplest edit
  // that produces the pattern seen (docs/audit.md, Verifying).
  bool Check(const AuditRecord& r, const AuditRecord* next) {
    const std::int64_t expected_id = prev_ ? prev_->id + 1 : 1;
    const std::string expected_prev = prev_ ? prev_->hash : std::string();
    const bool content_ok = AuditEntryHash(r) == r.hash;
    if (r.id != expected_id) {
      return Fail(expected_id, "entry missing",
                  "entries " + std::to_string(expected_id) + " to " + std::to_string(r.id - 1) +
                      " are missing (the ids jump from " + std::to_string(expected_id - 1) +
                      " to " + std::to_string(r.id) + ")");
    }
    if (content_ok && r.prev_hash == expected_prev) return true;
    if (prev_ && !prev_->prev_hash.empty() && r.prev_hash == prev_->prev_hash) {
      return Fail(prev_->id, "entry inserted",
                  "entry " + std::to_string(prev_->id) + " was inserted: entry " +
                      std::to_string(r.id) + " links to the entry before it");
    }
    const auto linked = by_hash_.find(HashKey(r.prev_hash));
    if (!r.prev_hash.empty() && linked != by_hash_.end() && prev_ && linked->second != prev_->id) {
      return Fail(r.id, "order changed",
                  "entry " + std::to_string(r.id) + " belongs after entry " +
                      std::to_string(linked->second) + ", not after entry " +
                      std::to_string(prev_->id));
    }
    if (!content_ok && next != nullptr && next->prev_hash == expected_prev) {
      return Fail(r.id, "entry inserted",
                  "entry " + std::to_string(r.id) + " was inserted: entry " +
                      std::to_string(next->id) + " links to the entry before it");
    }
    if (!content_ok) {
      return Fail(r.id, "content changed",
                  "entry " + std::to_string(r.id) + "'s content does not match its hash");
    }
    return Fail(r.id, "prev_hash mismatch",
                "entry " + std::to_string(r.id) + " does not link to entry " +
                    std::to_string(expected_id - 1));
  }

  SqliteDb& db_;
  AuditVerifyReport& report_;
  Status status_ = Status::Ok();
  std::unordered_map<std::uint64_t, std::int64_t> by_hash_;
  std::optional<AuditRecord> prev_;
};

Result<std::optional<std::string>> EntryHash(SqliteDb& db, std::int64_t id) {
  Result<Statement> q = db.Prepare("SELECT hash FROM audit WHERE id = ?");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  Result<bool> row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

AuditSeal ReadSeal(const Statement& q) {
  return {q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Text(4), q.Text(5), q.Text(6)};
}

// `id` names an entry unless the problem is about a checkpoint or the head themselves.
bool Bad(AuditVerifyReport& report, std::int64_t id, std::string problem, std::string explanation) {
  report.bad_id = id;
  const bool seal_itself = problem.find("signature") != std::string::npos ||
                           problem == "checkpoint missing" || problem == "head missing" ||
                           problem == "no key";
  const bool head = problem.rfind("head", 0) == 0 || (problem == "no key" && id == 0);
  report.bad_what = !seal_itself ? "entry " + std::to_string(id)
                    : head       ? std::string("the head")
                                 : "checkpoint " + std::to_string(id);
  report.problem = std::move(problem);
  report.explanation = std::move(explanation);
  return false;
}

// A seal (checkpoint or head) is good when its signature verifies with `key` and the entry it
// names exists with the hash it names.
Result<bool> CheckSeal(SqliteDb& db, const AuditSeal& seal, std::string_view kind,
                       const AuditKey* key, AuditVerifyReport& report) {
  const std::string what = kind == "head" ? "the head" : "checkpoint " + std::to_string(seal.id);
  const std::string problem = kind == "head" ? "head" : "checkpoint";
  if (!seal.signature.empty() || key != nullptr) {
    if (key == nullptr) {
      return Bad(report, seal.id, "no key",
                 what + " is signed (" + seal.alg + ", key " + seal.key_id +
                     "): give --public-key FILE or configure audit.signing_key_file");
    }
    if (!key->Verify(seal, kind)) {
      return Bad(report, seal.id, problem + " signature invalid",
                 what + "'s signature does not verify with key " + key->key_id() + " (" +
                     key->alg() + ")");
    }
    report.signatures_checked = true;
  }
  Result<std::optional<std::string>> hash = EntryHash(db, seal.entry_id);
  if (!hash.ok()) return hash.status();
  if (!*hash) {
    return Bad(
        report, seal.entry_id,
        kind == "head" ? "chain truncated" : "checkpoint refers to a missing entry",
        what + " names entry " + std::to_string(seal.entry_id) + ", which is not in the chain");
  }
  if (**hash != seal.entry_hash) {
    return Bad(report, seal.entry_id, problem + " hash mismatch",
               what + " names entry " + std::to_string(seal.entry_id) +
                   " with another hash: the entry was changed");
  }
  return true;
}

Result<bool> CheckCheckpoints(SqliteDb& db, const AuditKey* key, AuditVerifyReport& report) {
  Result<Statement> q = db.Prepare(
      "SELECT id, entry_id, entry_hash, at_us, key_id, alg, signature FROM audit_checkpoints "
      "ORDER BY id");
  if (!q.ok()) return q.status();
  for (;;) {
    Result<bool> row = q->Step();
    if (!row.ok()) return row.status();
    if (!*row) return true;
    const AuditSeal seal = ReadSeal(*q);
    if (seal.id != report.checkpoints + 1) {
      return Bad(report, report.checkpoints + 1, "checkpoint missing",
                 "checkpoint " + std::to_string(report.checkpoints + 1) + " is missing");
    }
    Result<bool> good = CheckSeal(db, seal, "checkpoint", key, report);
    if (!good.ok() || !*good) return good;
    ++report.checkpoints;
  }
}

Result<bool> CheckHead(SqliteDb& db, const AuditKey* key, std::int64_t last_id,
                       AuditVerifyReport& report) {
  Result<Statement> q =
      db.Prepare("SELECT 0, entry_id, entry_hash, at_us, key_id, alg, signature FROM audit_head");
  if (!q.ok()) return q.status();
  Result<bool> row = q->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    if (last_id == 0) return true;
    return Bad(report, last_id, "head missing",
               "the chain's head row is missing, so truncation cannot be ruled out");
  }
  const AuditSeal head = ReadSeal(*q);
  report.head_entry = head.entry_id;
  Result<bool> good = CheckSeal(db, head, "head", key, report);
  if (good.ok() && !*good && report.problem == "chain truncated") {
    report.bad_id = last_id + 1;
    report.bad_what = "entry " + std::to_string(last_id + 1);
    report.explanation = "the chain ends at entry " + std::to_string(last_id) +
                         " but its signed head names entry " + std::to_string(head.entry_id) +
                         ": entries " + std::to_string(last_id + 1) + " to " +
                         std::to_string(head.entry_id) + " were removed";
  }
  if (!good.ok() || !*good) return good;
  if (last_id > head.entry_id) {
    return Bad(report, head.entry_id + 1, "entry inserted",
               "entries after " + std::to_string(head.entry_id) +
                   " (the last the head names) were added outside the store");
  }
  return true;
}

}  // namespace

Result<AuditVerifyReport> VerifyAuditChain(const std::string& path, const AuditKey* key) {
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, false, /*create=*/false);
  if (!db.ok()) return db.status();
  // Nothing below writes; query_only makes sure of it.
  FHIRBRIDGE_RETURN_IF_ERROR((*db)->Exec("PRAGMA query_only = 1"));
  // One read transaction: the walk sees one commit even while the service appends.
  FHIRBRIDGE_RETURN_IF_ERROR((*db)->Exec("BEGIN"));
  AuditVerifyReport report;
  Walker walker(**db, report);
  Result<bool> ok = walker.Walk();
  if (ok.ok() && *ok) ok = CheckCheckpoints(**db, key, report);
  if (ok.ok() && *ok) ok = CheckHead(**db, key, walker.last_id(), report);
  (void)(*db)->Exec("COMMIT");
  if (!ok.ok()) return ok.status().WithContext("audit verify " + path);
  report.intact = *ok;
  return report;
}

}  // namespace fhirbridge::store
