#pragma once

// ES384 JWS signatures in the form RFC 7518 §3.4 requires: r and s as 48 octets each, 96 in all.
// Poco 1.11's JWT Signer drops their leading zero bytes, so about one assertion in 140 came out
// 95 bytes long and a JOSE token endpoint refused it (401 invalid_client).

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"

namespace fhirbridge::auth {

using EvpKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

/// Reads a PEM private key for ES384 (a P-384 EC key).
Result<EvpKey> ReadEs384Key(const std::string& pem);

/// The base64url of the 96-byte r || s signature of `signing_input` (SHA-384, ECDSA).
Result<std::string> SignEs384(EVP_PKEY* key, std::string_view signing_input);

}  // namespace fhirbridge::auth
