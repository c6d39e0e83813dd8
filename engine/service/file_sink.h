#pragma once

// The file destination: appends each delivered Bundle as one NDJSON line to
// <path>/<destination>.ndjson. Exactly once across crashes: after a batch is appended and
// fsync'd, the new file length is committed in the store together with the rows it covers
// (a SinkCheckpoint). At start-up the file is cut back to the committed length, so lines written
// by a batch whose commit never happened are removed and written again by the redelivery.

#include <memory>
#include <string>

#include "fhirbridge/sink.h"

namespace fhirbridge::service {

class FileSink final : public Sink {
 public:
  /// Creates `folder` when missing and trims the file to `committed_length` (the checkpoint
  /// value from the store; "" = nothing delivered yet).
  static Result<std::unique_ptr<FileSink>> Open(const std::string& folder,
                                                const std::string& destination,
                                                const std::string& committed_length);
  ~FileSink() override;

  SinkResult Deliver(const std::vector<OutboxItem>& batch) override;
  void Committed() override { committed_ = length_; }
  void CommitFailed() override;

  const std::string& file_path() const { return path_; }
  static constexpr const char* kCheckpointKey = "file_length";

 private:
  FileSink(std::string path, int fd, std::int64_t length)
      : path_(std::move(path)), fd_(fd), length_(length), committed_(length) {}

  std::string path_;
  int fd_;
  std::int64_t length_;     ///< bytes written, including a batch not yet committed
  std::int64_t committed_;  ///< bytes whose delivery the store has committed
};

}  // namespace fhirbridge::service
