#pragma once

// Reading secrets (tokens, passwords) from the files the configuration names.

#include <cstddef>
#include <string>
#include <string_view>

#include "fhirbridge/result.h"

namespace fhirbridge::auth {

/// Secret files are small: a longer one is a wrong path (a log, a database), refused.
inline constexpr std::size_t kMaxSecretBytes = 16 * 1024;

/// The file's content without surrounding white space. NotFound when unreadable,
/// InvalidArgument when empty or larger than kMaxSecretBytes. `what` names the key in messages;
/// the secret itself is never quoted.
Result<std::string> ReadSecretFile(const std::string& path, std::string_view what);

/// Standard base64 (RFC 4648 section 4) with padding.
std::string Base64(std::string_view bytes);

/// base64url without padding (RFC 4648 section 5), as JOSE writes it (RFC 7515 section 2).
std::string Base64Url(std::string_view bytes);

}  // namespace fhirbridge::auth
