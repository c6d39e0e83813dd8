#include "connectors/hl7v2/framing.h"

#include <algorithm>

namespace fhirbridge::hl7v2 {
namespace {

constexpr char kStartBlock = '\x0B';  // MLLP <VT>
constexpr char kEndBlock = '\x1C';    // MLLP <FS>
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBlank(std::string_view s) { return std::all_of(s.begin(), s.end(), IsSpace); }

class Splitter {
 public:
  explicit Splitter(std::string_view input) : in_(input) {}

  SplitResult Run() {
    std::size_t i = in_.substr(0, 3) == kByteOrderMark ? 3 : 0;
    while (i < in_.size()) {
      const char c = in_[i];
      if (IsSpace(c)) {
        ++i;
      } else if (c == kStartBlock) {
        i = Frame(i);
      } else if (in_.substr(i, 3) == "MSH") {
        i = Unframed(i);
      } else if (c == kEndBlock) {
        Report(i, 1, "MLLP end block 0x1C without a start block 0x0B");
        i += (i + 1 < in_.size() && in_[i + 1] == '\r') ? 2 : 1;
      } else {
        i = Stray(i);
      }
    }
    return std::move(result_);
  }

 private:
  /// An MLLP frame starting at `start` (the 0x0B); returns where to go on.
  std::size_t Frame(std::size_t start) {
    const std::size_t end = in_.find_first_of(std::string_view("\x0B\x1C", 2), start + 1);
    if (end == std::string_view::npos) {
      Report(start, in_.size() - start, "MLLP frame is not terminated (no 0x1C before the end)");
      return in_.size();
    }
    if (in_[end] == kStartBlock) {
      Report(start, end - start,
             "MLLP frame is not terminated (a new frame starts at offset " + std::to_string(end) +
                 ")");
      return end;
    }
    const std::string_view content = in_.substr(start + 1, end - start - 1);
    if (IsBlank(content)) {
      Report(start, end + 1 - start, "empty MLLP frame");
    } else {
      result_.messages.push_back(content);
    }
    if (end + 1 < in_.size() && in_[end + 1] == '\r') return end + 2;
    Report(end, 1, "MLLP end block 0x1C is not followed by 0x0D");
    return end + 1;
  }

  /// An unframed message starting at `start` ("MSH"); returns where to go on.
  std::size_t Unframed(std::size_t start) {
    std::size_t i = start;
    std::size_t content_end = start;
    while (i < in_.size()) {
      std::size_t end = in_.find_first_of(std::string_view("\r\n\x0B\x1C", 4), i);
      if (end == std::string_view::npos) end = in_.size();
      const bool blank = IsBlank(in_.substr(i, end - i));
      if (!blank) content_end = end;
      if (end == in_.size() || in_[end] == kStartBlock || in_[end] == kEndBlock) {
        i = end;
        break;
      }
      std::size_t next = end + 1;
      if (in_[end] == '\r' && next < in_.size() && in_[next] == '\n') ++next;  // CRLF
      if (!blank) content_end = next;  // keep the segment terminator
      i = next;
      if (in_.substr(i, 3) == "MSH") break;
    }
    result_.messages.push_back(in_.substr(start, content_end - start));
    return i;
  }

  /// Bytes at `start` that belong to no message; returns where a message may start again.
  std::size_t Stray(std::size_t start) {
    std::size_t i = start;
    while (i < in_.size() && in_[i] != kStartBlock) {
      if ((in_[i] == '\r' || in_[i] == '\n') && in_.substr(i + 1, 3) == "MSH") {
        ++i;
        break;
      }
      ++i;
    }
    std::size_t end = i;
    while (end > start && IsSpace(in_[end - 1])) --end;
    Report(start, end - start,
           "bytes outside any message (not in an MLLP frame and not starting with MSH)");
    return i;
  }

  void Report(std::size_t offset, std::size_t length, std::string reason) {
    result_.problems.push_back({offset, length, std::move(reason)});
  }

  std::string_view in_;
  SplitResult result_;
};

}  // namespace

SplitResult SplitMessagesReporting(std::string_view input) { return Splitter(input).Run(); }

std::vector<std::string_view> SplitMessages(std::string_view input) {
  return SplitMessagesReporting(input).messages;
}

}  // namespace fhirbridge::hl7v2
