#pragma once

// Test certificates made at test time with OpenSSL (nothing committed that could expire): two
// CAs, a server certificate for localhost/127.0.0.1, and client certificates from each CA.

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/testing/temp_dir.h"

namespace fhirbridge::mllp::testing {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

/// A certificate and its key, also written as PEM files.
struct Credential {
  KeyPtr key;
  CertPtr cert;
  std::string cert_file;
  std::string key_file;
};

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  BOOST_REQUIRE(ext != nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// A P-256 key and a certificate for `cn`, signed by `issuer` (self-signed when null).
inline Credential MakeCredential(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& cn, const Credential* issuer, bool ca,
                                 long serial) {
  Credential c;
  c.key.reset(EVP_EC_gen("P-256"));
  BOOST_REQUIRE(c.key);
  c.cert.reset(X509_new());
  X509* x = c.cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
  X509_set_pubkey(x, c.key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  AddExtension(x, issuer_cert, NID_subject_key_identifier, "hash");
  if (ca) {
    AddExtension(x, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(x, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(x, issuer_cert, NID_authority_key_identifier, "keyid");
    AddExtension(x, issuer_cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExtension(x, issuer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  BOOST_REQUIRE(X509_sign(x, issuer ? issuer->key.get() : c.key.get(), EVP_sha256()) > 0);

  c.cert_file = (dir / (name + ".crt")).string();
  c.key_file = (dir / (name + ".key")).string();
  std::FILE* f = std::fopen(c.cert_file.c_str(), "w");
  BOOST_REQUIRE(f != nullptr);
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(c.key_file.c_str(), "w");
  BOOST_REQUIRE(f != nullptr);
  PEM_write_PrivateKey(f, c.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return c;
}

/// Everything the TLS tests need, in a fresh temporary folder (removed afterwards).
struct TestPki {
  TestPki() {
    ca = MakeCredential(dir, "ca", "fhirbridge test CA", nullptr, true, 1);
    other_ca = MakeCredential(dir, "other-ca", "another CA", nullptr, true, 2);
    server = MakeCredential(dir, "server", "localhost", &ca, false, 3);
    client = MakeCredential(dir, "client", "device-7", &ca, false, 4);
    stranger = MakeCredential(dir, "stranger", "device-8", &other_ca, false, 5);
  }
  ::fhirbridge::testing::TempDir temp{"fhirbridge-mllp-tls"};
  const std::filesystem::path& dir = temp.dir;
  Credential ca, other_ca, server, client, stranger;
};

}  // namespace fhirbridge::mllp::testing
