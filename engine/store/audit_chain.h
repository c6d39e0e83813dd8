#pragma once

// The audit chain's cryptography (docs/audit.md, Tamper evidence): the canonical encoding of an
// entry and its SHA-256, and the signatures of checkpoints and of the chain head — HMAC-SHA256
// with a secret file, or Ed25519 / ECDSA P-256 with a PEM key, through OpenSSL EVP. No
// exception or OpenSSL error leaves this file: everything comes back as Status.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/audit.h"
#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::store {

/// Lower-case hex of `bytes`.
std::string HexOf(std::string_view bytes);

/// The SHA-256 of `bytes`, 32 raw bytes.
std::string Sha256(std::string_view bytes);

/// The SHA-256 (hex) of an entry: over a length-prefixed encoding of every field in a fixed
/// order — id, at_us, event, outcome, actor, peer, tls_identity, source, message_id,
/// control_id, patient, detail — and prev_hash. Each string is its 8-byte big-endian length
/// then its bytes and each integer 8 bytes big-endian, so no two different entries encode the
/// same (plain concatenation would let "ab"+"c" collide with "a"+"bc").
std::string AuditEntryHash(const AuditRecord& record);

/// A signed statement "the chain up to entry `entry_id` has hash `entry_hash`": either a
/// periodic checkpoint (kept) or the head (rewritten at every commit that adds entries).
struct AuditSeal {
  std::int64_t id = 0;  ///< checkpoint row id (0 for the head)
  std::int64_t entry_id = 0;
  std::string entry_hash;
  std::int64_t at_us = 0;
  std::string key_id;     ///< which key signed ("" when unsigned)
  std::string alg;        ///< hmac-sha256 | ed25519 | ecdsa-p256 ("" when unsigned)
  std::string signature;  ///< hex ("" when unsigned)
};

/// The bytes a seal's signature covers (length-prefixed like entries; `kind` separates
/// checkpoints from heads so that one cannot be replayed as the other).
std::string AuditSealMessage(const AuditSeal& seal, std::string_view kind);

/// Signs and checks seals with one key. Created from a key file:
/// - hmac-sha256: the file holds the secret (at least 32 bytes; a final newline is ignored);
/// - ed25519 / ecdsa-p256: a PEM private key signs and verifies; a PEM public key
///   (SubjectPublicKeyInfo) only verifies.
class AuditKey {
 public:
  /// `alg`: hmac-sha256 | ed25519 | ecdsa-p256. InvalidArgument for a wrong kind of key.
  static Result<std::unique_ptr<AuditKey>> FromFile(std::string_view alg, const std::string& path);
  /// The same from PEM text or secret bytes in memory (tests).
  static Result<std::unique_ptr<AuditKey>> FromBytes(std::string_view alg, std::string bytes);
  ~AuditKey();
  AuditKey(const AuditKey&) = delete;
  AuditKey& operator=(const AuditKey&) = delete;

  /// Fills key_id, alg and signature of `seal`. FailedPrecondition for a verify-only key.
  Status Sign(AuditSeal& seal, std::string_view kind) const;
  /// True when `seal`'s signature is valid for this key (alg and key id must match).
  bool Verify(const AuditSeal& seal, std::string_view kind) const;

  const std::string& key_id() const { return key_id_; }
  const std::string& alg() const { return alg_; }
  bool can_sign() const { return can_sign_; }

 private:
  struct Pkey;
  AuditKey() = default;
  Result<std::string> SignBytes(std::string_view message) const;

  std::string alg_;
  std::string key_id_;
  std::string secret_;  ///< HMAC only
  std::unique_ptr<Pkey> pkey_;
  bool can_sign_ = false;
};

}  // namespace fhirbridge::store
