// The blocking MLLP client: see mllp_client.h.

#include "connectors/mllp/mllp_client.h"

#include <deque>
#include <optional>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include "connectors/mllp/tls_context.h"

namespace fhirbridge::mllp {
namespace {

Poco::Timespan ToTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

struct MllpClient::Impl {
  explicit Impl(const MllpClientOptions& o) : options(o), decoder(Limits(o)) {}

  static MllpDecoderLimits Limits(const MllpClientOptions& o) {
    MllpDecoderLimits limits;
    limits.max_frame_bytes = o.max_reply_bytes;
    return limits;
  }

  MllpClientOptions options;
  std::optional<internal::SslLibrary> ssl;  // declared first: outlives the socket
  Poco::Net::StreamSocket socket;
  MllpFrameDecoder decoder;
  std::deque<std::string> replies;  ///< frames read ahead of Receive()
  bool closed = false;
};

MllpClient::MllpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MllpClient::~MllpClient() { Close(); }

Result<std::unique_ptr<MllpClient>> MllpClient::Connect(const MllpClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  const Poco::Timespan timeout = ToTimespan(options.timeout);
  try {
    const Poco::Net::SocketAddress address(options.host, options.port);
    if (options.ca_file.empty()) {
      impl->socket.connect(address, timeout);
    } else {
      impl->ssl.emplace();
      auto context =
          internal::MakeClientContext(options.ca_file, options.cert_file, options.key_file);
      if (!context.ok()) return context.status();
      Poco::Net::SecureStreamSocket secure(*context);
      secure.setLazyHandshake(false);
      secure.connect(address, timeout);  // handshake and certificate check included
      impl->socket = secure;
    }
    impl->socket.setNoDelay(true);
    impl->socket.setReceiveTimeout(timeout);
    impl->socket.setSendTimeout(timeout);
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("mllp client: cannot connect to " + options.host + ":" +
                               std::to_string(options.port) + ": " + e.displayText());
  }
  return std::unique_ptr<MllpClient>(new MllpClient(std::move(impl)));
}

Status MllpClient::Send(std::string_view content) {
  std::string frame;
  frame.reserve(content.size() + 3);
  frame += kStartBlock;
  frame += content;
  frame += kEndBlock;
  frame += kCarriageReturn;
  return SendRaw(frame);
}

Status MllpClient::SendRaw(std::string_view bytes) {
  if (impl_->closed) return Status::FailedPrecondition("mllp client: closed");
  try {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const int n =
          impl_->socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
      if (n <= 0) return Status::Unavailable("mllp client: the connection was closed");
      sent += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  } catch (const Poco::TimeoutException&) {
    return Status::DeadlineExceeded("mllp client: write timed out");
  } catch (const Poco::Exception& e) {
    return Status::Unavailable("mllp client: write failed: " + e.displayText());
  }
}

Result<std::string> MllpClient::Receive() {
  if (impl_->closed) return Status::FailedPrecondition("mllp client: closed");
  std::vector<MllpEvent> events;
  std::vector<char> buffer(16 * 1024);
  while (impl_->replies.empty()) {
    int n = 0;
    try {
      n = impl_->socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
    } catch (const Poco::TimeoutException&) {
      return Status::DeadlineExceeded("mllp client: no reply in time");
    } catch (const Poco::Exception& e) {
      return Status::Unavailable("mllp client: read failed: " + e.displayText());
    }
    if (n <= 0) return Status::Unavailable("mllp client: the server closed the connection");
    impl_->decoder.Feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), events);
    for (MllpEvent& e : events) {
      if (e.kind != MllpEvent::Kind::kFrame) {
        return Status::InvalidArgument("mllp client: the reply is not a well-formed frame");
      }
      impl_->replies.push_back(std::move(e.content));
    }
    events.clear();
  }
  std::string reply = std::move(impl_->replies.front());
  impl_->replies.pop_front();
  return reply;
}

Result<std::string> MllpClient::Exchange(std::string_view content) {
  FHIRBRIDGE_RETURN_IF_ERROR(Send(content));
  return Receive();
}

void MllpClient::Close() {
  if (impl_->closed) return;
  impl_->closed = true;
  try {
    impl_->socket.close();
  } catch (const Poco::Exception&) {
    // Closing a socket the peer already reset: nothing left to do.
  }
}

}  // namespace fhirbridge::mllp
