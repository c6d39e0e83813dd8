#include "engine/store/audit_chain.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

namespace fhirbridge::store {

namespace {

// Length-prefixed canonical encoding (see AuditEntryHash).
class Encoder {
 public:
  explicit Encoder(std::string_view domain) { Text(domain); }
  Encoder& Int(std::int64_t value) {
    const auto u = static_cast<std::uint64_t>(value);
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(u >> shift));
    return *this;
  }
  Encoder& Text(std::string_view text) {
    Int(static_cast<std::int64_t>(text.size()));
    out_.append(text);
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

bool FromHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (std::size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return true;
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::string Sha256(std::string_view bytes) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up in the provider store on every call
  // (a lock and a few allocations, shared by every thread that hashes). The committer hashes
  // each audit row, so the algorithm is fetched once and each thread keeps one context.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1 || length != sizeof digest) {
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  }
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(kDigits[u >> 4]);
    out.push_back(kDigits[u & 15]);
  }
  return out;
}

std::string AuditEntryHash(const AuditRecord& r) {
  Encoder e("fhirbridge.audit.entry.v1");
  e.Int(r.id).Int(r.at_us).Text(r.event).Text(r.outcome).Text(r.actor).Text(r.peer);
  e.Text(r.tls_identity).Text(r.source).Int(r.message_id).Text(r.control_id).Text(r.patient);
  e.Text(r.detail).Text(r.prev_hash);
  return HexOf(Sha256(e.bytes()));
}

std::string AuditSealMessage(const AuditSeal& seal, std::string_view kind) {
  Encoder e("fhirbridge.audit.seal.v1");
  e.Text(kind).Int(seal.id).Int(seal.entry_id).Text(seal.entry_hash).Int(seal.at_us);
  e.Text(seal.key_id).Text(seal.alg);
  return e.bytes();
}

// ---- keys ----

struct AuditKey::Pkey {
  EVP_PKEY* key = nullptr;
  ~Pkey() { EVP_PKEY_free(key); }
};

AuditKey::~AuditKey() = default;

Result<std::unique_ptr<AuditKey>> AuditKey::FromFile(std::string_view alg,
                                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read the audit key file " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::unique_ptr<AuditKey>> key = FromBytes(alg, std::move(bytes));
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

Result<std::unique_ptr<AuditKey>> AuditKey::FromBytes(std::string_view alg, std::string bytes) {
  std::unique_ptr<AuditKey> key(new AuditKey());
  key->alg_ = std::string(alg);
  if (alg == "hmac-sha256") {
    while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.pop_back();
    // RFC 2104 §3: a key shorter than the hash output weakens the MAC.
    if (bytes.size() < 32) {
      return Status::InvalidArgument("an HMAC-SHA256 audit secret needs at least 32 bytes");
    }
    key->secret_ = std::move(bytes);
    key->key_id_ = HexOf(Sha256("fhirbridge.audit.hmac-key-id|" + key->secret_)).substr(0, 16);
    key->can_sign_ = true;
    return key;
  }
  if (alg != "ed25519" && alg != "ecdsa-p256") {
    return Status::InvalidArgument("unknown audit signing algorithm \"" + std::string(alg) +
                                   "\" (hmac-sha256, ed25519, ecdsa-p256)");
  }
  key->pkey_ = std::make_unique<Pkey>();
  BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  if (bio == nullptr) return Status::ResourceExhausted("audit key: " + OpenSslError());
  key->pkey_->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  key->can_sign_ = key->pkey_->key != nullptr;
  if (key->pkey_->key == nullptr) {
    ERR_clear_error();
    BIO_free(bio);
    bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    if (bio == nullptr) return Status::ResourceExhausted("audit key: " + OpenSslError());
    key->pkey_->key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (key->pkey_->key == nullptr) {
    return Status::InvalidArgument("not a PEM private or public key: " + OpenSslError());
  }
  EVP_PKEY* k = key->pkey_->key;
  bool right_kind = false;
  if (alg == "ed25519") {
    right_kind = EVP_PKEY_is_a(k, "ED25519") == 1;
  } else {
    char group[64] = {};
    std::size_t length = 0;
    right_kind = EVP_PKEY_is_a(k, "EC") == 1 &&
                 EVP_PKEY_get_group_name(k, group, sizeof group, &length) == 1 &&
                 std::string_view(group, length) == "prime256v1";
  }
  if (!right_kind) {
    return Status::InvalidArgument("the key is not an " + std::string(alg) + " key");
  }
  // The key id names the public key (SHA-256 of its DER SubjectPublicKeyInfo), so a verifier
  // holding only the public key computes the same id.
  unsigned char* der = nullptr;
  const int der_length = i2d_PUBKEY(k, &der);
  if (der_length <= 0) return Status::Internal("audit key: " + OpenSslError());
  key->key_id_ =
      HexOf(Sha256(std::string_view(reinterpret_cast<char*>(der), der_length))).substr(0, 16);
  OPENSSL_free(der);
  return key;
}

Result<std::string> AuditKey::SignBytes(std::string_view message) const {
  if (!secret_.empty()) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret_.data(), secret_.size(),
                  reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
                  sizeof mac, &length) == nullptr) {
      return Status::Internal("HMAC-SHA256: " + OpenSslError());
    }
    return std::string(reinterpret_cast<char*>(mac), length);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Status::ResourceExhausted("signature: out of memory");
  // Ed25519 hashes internally (RFC 8032: PureEdDSA), so it takes no digest; ECDSA uses SHA-256.
  const EVP_MD* md = alg_ == "ecdsa-p256" ? EVP_sha256() : nullptr;
  std::string signature;
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, pkey_->key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &length, data, message.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                        message.size()) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("signature: " + OpenSslError());
  return signature;
}

Status AuditKey::Sign(AuditSeal& seal, std::string_view kind) const {
  if (!can_sign_) return Status::FailedPrecondition("the audit key is a public key: cannot sign");
  seal.key_id = key_id_;
  seal.alg = alg_;
  Result<std::string> signature = SignBytes(AuditSealMessage(seal, kind));
  if (!signature.ok()) return signature.status();
  seal.signature = HexOf(*signature);
  return Status::Ok();
}

bool AuditKey::Verify(const AuditSeal& seal, std::string_view kind) const {
  if (seal.alg != alg_ || seal.key_id != key_id_) return false;
  std::string signature;
  if (!FromHex(seal.signature, signature)) return false;
  const std::string message = AuditSealMessage(seal, kind);
  if (!secret_.empty()) {
    Result<std::string> expected = SignBytes(message);
    return expected.ok() && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  const EVP_MD* md = alg_ == "ecdsa-p256" ? EVP_sha256() : nullptr;
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey_->key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

}  // namespace fhirbridge::store
