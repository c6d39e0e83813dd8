#include "engine/auth/es384.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <vector>

#include "engine/auth/secret_file.h"

namespace fhirbridge::auth {

namespace {

constexpr int kCoordinateBytes = 48;  // P-384

}  // namespace

Result<EvpKey> ReadEs384Key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  if (!bio) return Status::Internal("cannot read the key into OpenSSL");
  EvpKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC ||
      EVP_PKEY_get_bits(key.get()) != 384) {
    return Status::InvalidArgument("ES384 needs a P-384 EC private key");
  }
  return key;
}

Result<std::string> SignEs384(EVP_PKEY* key, std::string_view signing_input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t der_size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_size, data, signing_input.size()) != 1) {
    return Status::Internal("ES384: cannot start the signature");
  }
  std::vector<unsigned char> der(der_size);
  if (EVP_DigestSign(ctx.get(), der.data(), &der_size, data, signing_input.size()) != 1) {
    return Status::Internal("ES384: signing failed");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_size)), &ECDSA_SIG_free);
  if (!sig) return Status::Internal("ES384: the signature does not decode");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  unsigned char raw[2 * kCoordinateBytes];
  if (BN_bn2binpad(r, raw, kCoordinateBytes) != kCoordinateBytes ||
      BN_bn2binpad(s, raw + kCoordinateBytes, kCoordinateBytes) != kCoordinateBytes) {
    return Status::Internal("ES384: r or s is longer than 48 bytes");
  }
  return Base64Url(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

}  // namespace fhirbridge::auth
