#include "engine/audit/syslog_tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fhirbridge::audit {

namespace {

// The most recent OpenSSL error as text (the queue is cleared).
std::string OpenSslError() {
  std::string text;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    text = buffer;
  }
  return text.empty() ? "unknown TLS error" : text;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

void SetBlocking(int fd, bool blocking) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
}

void SetTimeout(int fd, int option, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// A connected TCP socket (blocking, with the I/O timeouts set), or -1 and `error`.
int ConnectTcp(const SyslogTlsOptions& o, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = std::string("cannot resolve the collector host: ") + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  error = "no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = poll(&p, 1, static_cast<int>(o.connect_timeout.count()));
      int so_error = ready == 0 ? ETIMEDOUT : errno;
      socklen_t len = sizeof so_error;
      if (ready == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = ready == 1 && so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc != 0) {
      error = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    SetBlocking(fd, true);
    SetTimeout(fd, SO_SNDTIMEO, o.io_timeout);
    SetTimeout(fd, SO_RCVTIMEO, o.connect_timeout);  // the handshake's reads
  }
  return fd;
}

// OpenSSL writes with write(2): a collector that went away would raise SIGPIPE. The signal is
// blocked in this thread for the call, and a pending one is taken before unblocking.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_;
  sigset_t old_;
};

}  // namespace

Result<std::unique_ptr<SyslogTlsClient>> SyslogTlsClient::Create(SyslogTlsOptions options) {
  if (options.ca_file.empty()) {
    return Status::InvalidArgument("tls.ca: a CA file is required to check the collector");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status::Internal("cannot create a TLS context: " + OpenSslError());
  auto fail = [ctx](std::string what) {
    SSL_CTX_free(ctx);
    return Status::InvalidArgument(std::move(what) + ": " + OpenSslError());
  };
  // RFC 5425 §4.2 asks for TLS; ARCHITECTURE.md, Security: 1.2 or later.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    return fail("tls.ca: cannot load " + options.ca_file);
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      return fail("tls.cert: cannot load " + options.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail("tls.key: cannot load " + options.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return fail("tls.key: does not match tls.cert");
    }
  }
  return std::unique_ptr<SyslogTlsClient>(new SyslogTlsClient(std::move(options), ctx));
}

SyslogTlsClient::~SyslogTlsClient() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<SyslogTlsConnection>> SyslogTlsClient::Connect() const {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  std::string error;
  const int fd = ConnectTcp(options_, error);
  if (fd < 0) return Status::Unavailable("syslog collector " + where + ": " + error);
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) {
    close(fd);
    return Status::Internal("cannot create a TLS session: " + OpenSslError());
  }
  // Owned from here on: the destructor closes both.
  std::unique_ptr<SyslogTlsConnection> connection(new SyslogTlsConnection(fd, ssl));
  SSL_set_fd(ssl, fd);
  if (IsIpLiteral(options_.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), options_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, options_.host.c_str());
    SSL_set1_host(ssl, options_.host.c_str());
  }
  SigpipeGuard guard;
  if (SSL_connect(ssl) != 1) {
    const long verify = SSL_get_verify_result(ssl);
    std::string reason = verify != X509_V_OK
                             ? std::string("certificate: ") + X509_verify_cert_error_string(verify)
                             : OpenSslError();
    return Status::Unavailable("syslog collector " + where + ": TLS handshake failed: " + reason);
  }
  SetTimeout(fd, SO_RCVTIMEO, options_.io_timeout);
  return connection;
}

SyslogTlsConnection::~SyslogTlsConnection() {
  if (ssl_ != nullptr) {
    SigpipeGuard guard;
    SSL_shutdown(ssl_);  // best effort close_notify; the collector may be gone
    SSL_free(ssl_);
  }
  if (fd_ >= 0) close(fd_);
}

Status SyslogTlsConnection::Send(std::string_view bytes) {
  SigpipeGuard guard;
  while (!bytes.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20));
    const int written = SSL_write(ssl_, bytes.data(), chunk);
    if (written <= 0) {
      const int error = SSL_get_error(ssl_, written);
      const std::string text = error == SSL_ERROR_SYSCALL ? std::strerror(errno) : OpenSslError();
      return Status::Unavailable("syslog collector: write failed: " + text);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return Status::Ok();
}

bool SyslogTlsConnection::PeerGone(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    const int rc = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return rc < 0;
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) return true;
    // Readable: TLS 1.3 session tickets, a close_notify alert, or EOF.
    SetBlocking(fd_, false);
    char buffer[512];
    const int read = SSL_read(ssl_, buffer, sizeof buffer);
    const int error = read > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, read);
    SetBlocking(fd_, true);
    ERR_clear_error();
    if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ) return true;
  }
}

}  // namespace fhirbridge::audit
