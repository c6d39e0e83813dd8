#include "engine/store/payload_cipher.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <fstream>
#include <iterator>

#include "engine/store/audit_chain.h"

namespace fhirbridge::store {

namespace {

constexpr std::string_view kMagic("\0FBE", 4);
constexpr char kKeyVersion = 1;
constexpr std::size_t kNonceSize = 12;  // NIST SP 800-38D §8.2: 96-bit IVs
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kHeaderSize = 4 + 1 + kNonceSize;

std::string Trim(std::string_view text) {
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

bool DecodeHex(std::string_view hex, std::string& out) {
  if (hex.size() != 64) return false;
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const std::string pair(hex.substr(i, 2));
    if (!std::isxdigit(static_cast<unsigned char>(pair[0])) ||
        !std::isxdigit(static_cast<unsigned char>(pair[1]))) {
      return false;
    }
    out.push_back(static_cast<char>(std::stoi(pair, nullptr, 16)));
  }
  return true;
}

bool DecodeBase64(std::string_view text, std::string& out) {
  if (text.size() != 44) return false;
  unsigned char buffer[48];
  const int n = EVP_DecodeBlock(buffer, reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  // EVP_DecodeBlock counts the padding as output bytes: 44 characters ending in one '=' are 32.
  if (n != 33 || text[43] != '=' || text[42] == '=') return false;
  out.assign(reinterpret_cast<char*>(buffer), 32);
  return true;
}

}  // namespace

Result<std::unique_ptr<PayloadCipher>> PayloadCipher::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the encryption key file " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::unique_ptr<PayloadCipher>> cipher = FromKeyText(bytes);
  if (!cipher.ok()) return cipher.status().WithContext(path);
  return cipher;
}

Result<std::unique_ptr<PayloadCipher>> PayloadCipher::FromKeyText(std::string_view text) {
  std::string key;
  if (text.size() == 32) {
    key = std::string(text);
  } else {
    const std::string trimmed = Trim(text);
    if (!DecodeHex(trimmed, key) && !DecodeBase64(trimmed, key)) {
      return Status::InvalidArgument(
          "an encryption key must be 32 bytes: raw, 64 hex digits or 44 base64 characters");
    }
  }
  return std::unique_ptr<PayloadCipher>(new PayloadCipher(std::move(key)));
}

bool PayloadCipher::IsSealed(std::string_view stored) {
  return stored.size() >= kHeaderSize + kTagSize && stored.substr(0, 4) == kMagic;
}

Result<std::string> PayloadCipher::Seal(std::string_view plain, std::string_view aad) const {
  std::string out(kMagic);
  out.push_back(kKeyVersion);
  unsigned char nonce[kNonceSize];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return Status::Internal("no random bytes for a nonce");
  out.append(reinterpret_cast<char*>(nonce), sizeof nonce);
  out.resize(kHeaderSize + plain.size() + kTagSize);
  auto* cipher_at = reinterpret_cast<unsigned char*>(out.data()) + kHeaderSize;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return Status::ResourceExhausted("encryption: out of memory");
  int n = 0;
  int tail = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), nonce) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, cipher_at, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, cipher_at + n, &tail) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, cipher_at + plain.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return Status::Internal("AES-256-GCM encryption failed");
  return out;
}

Result<std::string> PayloadCipher::Open(std::string_view sealed, std::string_view aad) const {
  if (!IsSealed(sealed)) return Status::DataLoss("not a sealed payload");
  if (sealed[4] != kKeyVersion) return Status::DataLoss("sealed with an unknown key version");
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data()) + 5;
  const std::size_t length = sealed.size() - kHeaderSize - kTagSize;
  const auto* cipher_at = reinterpret_cast<const unsigned char*>(sealed.data()) + kHeaderSize;
  std::string plain(length, '\0');
  std::string tag(sealed.substr(kHeaderSize + length));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return Status::ResourceExhausted("decryption: out of memory");
  int n = 0;
  int tail = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), nonce) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &n, cipher_at,
                        static_cast<int>(length)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(plain.data()) + n, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return Status::DataLoss("a stored payload does not decrypt (wrong key or altered)");
  return plain;
}

std::string PayloadCipher::CheckValue() const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  constexpr std::string_view kLabel = "fhirbridge.payload-key-check.v1";
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_.data(), key_.size(),
                reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac,
                sizeof mac, &length) == nullptr) {
    return "";
  }
  return HexOf(std::string_view(reinterpret_cast<char*>(mac), 8));
}

}  // namespace fhirbridge::store
