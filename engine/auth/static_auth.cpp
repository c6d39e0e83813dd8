// Bearer token from a file and HTTP basic authentication.

#include <openssl/evp.h>

#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/auth/auth_provider.h"
#include "engine/auth/secret_file.h"

namespace fhirbridge::auth {

Result<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(std::string(what) + ": cannot read " + path);
  std::string text(kMaxSecretBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxSecretBytes) {
    return Status::InvalidArgument(std::string(what) + ": " + path + " is larger than " +
                                   std::to_string(kMaxSecretBytes) + " bytes");
  }
  std::size_t begin = 0;
  while (begin < text.size() && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  std::size_t end = text.size();
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (end == begin) return Status::InvalidArgument(std::string(what) + ": " + path + " is empty");
  return text.substr(begin, end - begin);
}

namespace {

// A header value must not carry CR/LF (header injection) or other control characters.
bool IsHeaderSafe(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

class BearerFileAuth final : public AuthProvider {
 public:
  BearerFileAuth(std::string path, std::string header)
      : path_(std::move(path)), header_(std::move(header)) {}

  Result<std::string> Authorization() override {
    std::lock_guard lock(mutex_);
    if (header_.empty()) {
      Result<std::string> header = Load(path_);
      if (!header.ok()) return header.status();
      header_ = std::move(header).value();
    }
    return header_;
  }

  void Rejected(const std::string& header) override {
    std::lock_guard lock(mutex_);
    if (header == header_) header_.clear();  // read the file again next time
  }

  static Result<std::string> Load(const std::string& path) {
    Result<std::string> token = ReadSecretFile(path, "auth.token_file");
    if (!token.ok()) return Status::Unavailable(token.status().message());
    if (!IsHeaderSafe(*token)) {
      return Status::PermissionDenied("auth.token_file: " + path + " holds control characters");
    }
    return "Bearer " + *token;
  }

 private:
  std::mutex mutex_;
  std::string path_;
  std::string header_;
};

class BasicAuth final : public AuthProvider {
 public:
  explicit BasicAuth(std::string header) : header_(std::move(header)) {}
  Result<std::string> Authorization() override { return header_; }
  void Rejected(const std::string&) override {}  // nothing to refresh: the 401 is final

 private:
  const std::string header_;
};

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Base64Url(std::string_view bytes) {
  std::string b64 = Base64(bytes);
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

Result<std::unique_ptr<AuthProvider>> MakeBearerFileAuth(std::string token_file) {
  Result<std::string> header = BearerFileAuth::Load(token_file);
  if (!header.ok()) return Status::InvalidArgument(header.status().message());
  return std::unique_ptr<AuthProvider>(
      std::make_unique<BearerFileAuth>(std::move(token_file), std::move(header).value()));
}

Result<std::unique_ptr<AuthProvider>> MakeBasicAuth(const std::string& username,
                                                    const std::string& password_file) {
  // RFC 7617 section 2: the user-id cannot contain a colon.
  if (username.empty() || username.find(':') != std::string::npos || !IsHeaderSafe(username)) {
    return Status::InvalidArgument("auth.username: must be non-empty, without ':'");
  }
  Result<std::string> password = ReadSecretFile(password_file, "auth.password_file");
  if (!password.ok()) return password.status();
  return std::unique_ptr<AuthProvider>(
      std::make_unique<BasicAuth>("Basic " + Base64(username + ":" + *password)));
}

}  // namespace fhirbridge::auth
