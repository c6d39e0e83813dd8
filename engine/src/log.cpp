#include "fhirbridge/log.h"

#include <ctime>

namespace fhirbridge {

namespace {

constexpr std::size_t kMaxIdChars = 64;
constexpr std::size_t kMaxCodeChars = 32;
constexpr std::size_t kMaxSourceChars = 64;

bool IsTokenChar(char c, std::string_view extra) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         extra.find(c) != std::string_view::npos;
}

bool IsToken(std::string_view value, std::size_t max_chars, std::string_view extra) {
  if (value.size() > max_chars) return false;
  for (char c : value) {
    if (!IsTokenChar(c, extra)) return false;
  }
  return true;
}

bool IsPrintableAscii(std::string_view value, std::size_t max_chars) {
  if (value.size() > max_chars) return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view value) {
  if (!NeedsQuotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// RFC 3339 UTC with milliseconds: 2026-11-21T06:31:17.123Z.
void AppendTimestamp(std::string& out, std::chrono::system_clock::time_point time) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  std::int64_t ms = since_epoch.count();
  std::int64_t seconds = ms / 1000;
  std::int64_t millis = ms % 1000;
  if (millis < 0) {  // before 1970: floor, so the millisecond part stays positive
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];  // room for any int fields, so the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  out += buf;
}

std::string FormatMilliseconds(std::chrono::microseconds duration) {
  const std::int64_t us = duration.count();
  const std::uint64_t magnitude =
      us < 0 ? 0 - static_cast<std::uint64_t>(us) : static_cast<std::uint64_t>(us);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%03llums", us < 0 ? "-" : "",
                static_cast<unsigned long long>(magnitude / 1000),
                static_cast<unsigned long long>(magnitude % 1000));
  return buf;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

LogField LogField::Id(LogName key, std::string_view value) {
  if (!IsPrintableAscii(value, kMaxIdChars)) return LogField(key, Kind::kId, "<invalid id>");
  return LogField(key, Kind::kId, std::string(value));
}

LogField LogField::Code(LogName key, std::string_view value) {
  if (!IsToken(value, kMaxCodeChars, "_.:-")) return LogField(key, Kind::kCode, "<invalid code>");
  return LogField(key, Kind::kCode, std::string(value));
}

LogField LogField::Count(LogName key, std::int64_t count) {
  return LogField(key, Kind::kCount, std::to_string(count), count);
}

LogField LogField::Duration(LogName key, std::chrono::microseconds duration) {
  return LogField(key, Kind::kDuration, FormatMilliseconds(duration), duration.count());
}

LogField LogField::Source(std::string_view name) {
  if (name.empty() || !IsToken(name, kMaxSourceChars, "_.-")) {
    return LogField("source", Kind::kSource, "<invalid source>");
  }
  return LogField("source", Kind::kSource, std::string(name));
}

const LogField* LogRecord::Find(std::string_view key) const {
  for (const LogField& field : fields) {
    if (field.key() == key) return &field;
  }
  return nullptr;
}

std::string FormatLogfmt(const LogRecord& record) {
  std::string out;
  out.reserve(96 + 24 * record.fields.size());
  out += "ts=";
  AppendTimestamp(out, record.time);
  out += " level=";
  out += LogLevelName(record.level);
  out += " event=";
  out += record.event.view();
  for (const LogField& field : record.fields) {
    out += ' ';
    out += field.key();
    out += '=';
    AppendValue(out, field.text());
  }
  return out;
}

void LogfmtSink::Write(const LogRecord& record) {
  std::string line = FormatLogfmt(record);
  line += '\n';
  // One fwrite per line under the mutex: lines from several threads never interleave.
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void CapturingLogSink::Write(const LogRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(record);
}

std::vector<LogRecord> CapturingLogSink::records() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_;
}

std::vector<std::string> CapturingLogSink::lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.reserve(records_.size());
  for (const LogRecord& record : records_) out.push_back(FormatLogfmt(record));
  return out;
}

void CapturingLogSink::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  records_.clear();
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel min_level)
    : sink_(std::move(sink)), min_level_(min_level) {}

Logger& Logger::Global() {
  // Never destroyed: threads may still log while static destructors run at exit.
  static Logger* const global = new Logger(std::make_shared<LogfmtSink>(stderr));
  return *global;
}

std::shared_ptr<LogSink> Logger::SetSink(std::shared_ptr<LogSink> sink) {
  return sink_.exchange(std::move(sink));
}

void Logger::Log(LogLevel level, LogName event, std::initializer_list<LogField> fields) {
  if (!Enabled(level)) return;
  const std::shared_ptr<LogSink> sink = sink_.load();
  if (sink == nullptr) return;
  LogRecord record{std::chrono::system_clock::now(), level, event, std::vector<LogField>(fields)};
  sink->Write(record);
}

}  // namespace fhirbridge
