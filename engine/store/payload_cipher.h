#pragma once

// Payloads at rest (docs/store.md, Encryption): AES-256-GCM of raw messages and Bundles with a
// key from a file. A sealed payload is
//   "\0FBE" | key version (1 byte) | nonce (12 bytes, random) | ciphertext | tag (16 bytes)
// and the associated data binds it to its row, so a sealed payload copied into another row
// does not open. Plain HL7 v2 and JSON never start with a NUL byte, so a store that holds
// payloads from before encryption was switched on still reads them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"
#include "fhirbridge/status.h"

namespace fhirbridge::store {

class PayloadCipher {
 public:
  /// The key file holds 32 bytes: raw, or as 64 hex digits, or as base64 (44 characters);
  /// surrounding whitespace is ignored. Anything else is InvalidArgument.
  static Result<std::unique_ptr<PayloadCipher>> FromFile(const std::string& path);
  static Result<std::unique_ptr<PayloadCipher>> FromKeyText(std::string_view text);

  /// True when `stored` has the sealed-payload prefix.
  static bool IsSealed(std::string_view stored);

  Result<std::string> Seal(std::string_view plain, std::string_view aad) const;
  /// DataLoss when the tag does not verify (wrong key, altered bytes, or another row's payload).
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

  /// A key check value (hex), kept in the store's meta table so that a wrong key is refused at
  /// start-up instead of failing on the first read.
  std::string CheckValue() const;

 private:
  explicit PayloadCipher(std::string key) : key_(std::move(key)) {}
  std::string key_;  ///< 32 bytes
};

}  // namespace fhirbridge::store
