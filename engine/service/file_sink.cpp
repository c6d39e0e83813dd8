#include "engine/service/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fhirbridge::service {

namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::Open(const std::string& folder,
                                                 const std::string& destination,
                                                 const std::string& committed_length) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Status::Unavailable("cannot create " + folder + ": " + ec.message());
  std::string path = (std::filesystem::path(folder) / (destination + ".ndjson")).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Status::Unavailable("cannot open " + path + ": " + ErrnoText(errno));
  std::int64_t committed = 0;
  if (!committed_length.empty()) committed = std::stoll(committed_length);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::Unavailable("cannot stat " + path + ": " + ErrnoText(error));
  }
  if (st.st_size < committed) {
    ::close(fd);
    return Status::DataLoss(path + " is shorter (" + std::to_string(st.st_size) +
                            " bytes) than the store says was delivered (" +
                            std::to_string(committed) + " bytes): was it truncated or replaced?");
  }
  // Lines past the committed length were written by a batch whose commit did not happen: they
  // will be delivered again, so they must go.
  if (st.st_size > committed && ::ftruncate(fd, committed) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::Unavailable("cannot trim " + path + ": " + ErrnoText(error));
  }
  return std::unique_ptr<FileSink>(new FileSink(std::move(path), fd, committed));
}

FileSink::~FileSink() { ::close(fd_); }

SinkResult FileSink::Deliver(const std::vector<OutboxItem>& batch) {
  SinkResult result;
  std::string bytes;
  for (const OutboxItem& item : batch) {
    bytes += item.payload;
    bytes += '\n';
  }
  std::size_t written = 0;
  int error = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + written, bytes.size() - written,
                               static_cast<off_t>(length_ + static_cast<std::int64_t>(written)));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fdatasync(fd_) != 0) error = errno;
  if (error != 0) {
    // Cut the partial batch off again; every row is retried.
    if (::ftruncate(fd_, length_) != 0) {
      // The file now may hold part of this batch past length_; the next write overwrites it
      // (pwrite at length_), and a restart trims to the committed length.
    }
    DeliveryOutcome retry;
    retry.kind = DeliveryOutcome::Kind::kRetry;
    retry.reason = "cannot write " + path_ + ": " + ErrnoText(error);
    result.outcomes.assign(batch.size(), retry);
    return result;
  }
  length_ += static_cast<std::int64_t>(bytes.size());
  DeliveryOutcome done;
  done.kind = DeliveryOutcome::Kind::kDelivered;
  result.outcomes.assign(batch.size(), done);
  result.checkpoint = SinkCheckpoint{kCheckpointKey, std::to_string(length_)};
  return result;
}

void FileSink::CommitFailed() {
  // Even when the trim fails, the next batch is written at the committed length over the stale
  // lines, and a restart trims the file to what the store says.
  (void)!::ftruncate(fd_, committed_);
  length_ = committed_;
}

}  // namespace fhirbridge::service
