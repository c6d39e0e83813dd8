#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fhirbridge {

// Operational logging that cannot carry PHI by construction (ARCHITECTURE.md, Security and
// privacy; STYLE.md rule 6). A record is a fixed event name plus typed fields whose constructors
// say what they carry: ids, codes, counts, durations, source names. There is deliberately no
// free-text field; patient names, identifiers, birth dates, addresses and payloads have no way in.

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);

/// A name fixed in the source code: an event ("message.rejected") or a field key ("control_id").
/// The constructor is consteval, so a name must be a literal: runtime data — which might be PHI —
/// can never become one. A literal that is not 1..48 characters of [a-z0-9_.] does not compile.
class LogName {
 public:
  consteval LogName(const char* text)  // NOLINT: implicit so that literals read naturally
      : text_(text) {
    if (!IsValid(text_)) throw "log names are 1..48 characters of [a-z0-9_.]";
  }

  constexpr std::string_view view() const { return text_; }

  static constexpr bool IsValid(std::string_view text) {
    if (text.empty() || text.size() > 48) return false;
    for (char c : text) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
        return false;
      }
    }
    return true;
  }

 private:
  std::string_view text_;
};

/// One key=value of a record. Values are checked when the field is made; a value that fails its
/// check is replaced by a marker (`<invalid id>`, `<invalid code>`, `<invalid source>`) rather
/// than written, because a value that does not look like an id may be something else entirely.
class LogField {
 public:
  enum class Kind { kId, kCode, kCount, kDuration, kSource };

  /// A message, control, connection or batch id (MSH-10, a store row id). Printable ASCII, at
  /// most 64 characters. Never a patient identifier: those are PHI.
  static LogField Id(LogName key, std::string_view value);
  /// A short token from a fixed vocabulary: ACK code, HL7 error code, status, HTTP method.
  /// [A-Za-z0-9_.:-], at most 32 characters.
  static LogField Code(LogName key, std::string_view value);
  static LogField Count(LogName key, std::int64_t count);
  /// Written in milliseconds with three decimals: elapsed=1.250ms.
  static LogField Duration(LogName key, std::chrono::microseconds duration);
  /// The configured name of a source or destination; key `source`. [A-Za-z0-9_.-], at most 64.
  static LogField Source(std::string_view name);

  std::string_view key() const { return key_.view(); }
  Kind kind() const { return kind_; }
  /// The value as it is written (after validation), without logfmt quoting.
  const std::string& text() const { return text_; }
  std::int64_t count() const { return number_; }  ///< kCount only
  std::chrono::microseconds duration() const {    ///< kDuration only
    return std::chrono::microseconds(number_);
  }

 private:
  LogField(LogName key, Kind kind, std::string text, std::int64_t number = 0)
      : key_(key), kind_(kind), text_(std::move(text)), number_(number) {}

  LogName key_;
  Kind kind_;
  std::string text_;
  std::int64_t number_;
};

/// One log event.
struct LogRecord {
  std::chrono::system_clock::time_point time;
  LogLevel level;
  LogName event;
  std::vector<LogField> fields;

  /// The first field named `key`, or null.
  const LogField* Find(std::string_view key) const;
};

/// One logfmt line without the newline:
/// `ts=2026-11-21T06:31:17.123Z level=info event=message.accepted source=icu segments=23`.
/// Values with spaces, quotes, `=` or backslashes are quoted with \" and \\ escapes.
std::string FormatLogfmt(const LogRecord& record);

/// Where records go. Implementations must be safe to call from several threads at once.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogRecord& record) = 0;
};

/// Writes one logfmt line per record to a stdio stream (stderr by default), whole lines only.
class LogfmtSink : public LogSink {
 public:
  explicit LogfmtSink(std::FILE* out = stderr) : out_(out) {}
  void Write(const LogRecord& record) override;

 private:
  std::mutex mutex_;
  std::FILE* out_;
};

/// Keeps every record in memory: for tests, which can then assert on events and on the absence
/// of PHI in the formatted lines.
class CapturingLogSink : public LogSink {
 public:
  void Write(const LogRecord& record) override;

  std::vector<LogRecord> records() const;
  std::vector<std::string> lines() const;  ///< FormatLogfmt of each record
  void Clear();

 private:
  mutable std::mutex mutex_;
  std::vector<LogRecord> records_;
};

/// Filters by level, stamps the time and hands records to a sink. Safe to use from any thread,
/// also while another thread swaps the sink.
class Logger {
 public:
  explicit Logger(std::shared_ptr<LogSink> sink, LogLevel min_level = LogLevel::kInfo);

  /// The process-wide logger: logfmt on stderr, level info, until pointed elsewhere.
  static Logger& Global();

  /// Replaces the sink (null discards records) and returns the previous one.
  std::shared_ptr<LogSink> SetSink(std::shared_ptr<LogSink> sink);
  void SetMinLevel(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }
  LogLevel min_level() const { return min_level_.load(std::memory_order_relaxed); }
  bool Enabled(LogLevel level) const { return level >= min_level(); }

  void Log(LogLevel level, LogName event, std::initializer_list<LogField> fields = {});
  void Debug(LogName event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kDebug, event, fields);
  }
  void Info(LogName event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kInfo, event, fields);
  }
  void Warn(LogName event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kWarn, event, fields);
  }
  void Error(LogName event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kError, event, fields);
  }

 private:
  std::atomic<std::shared_ptr<LogSink>> sink_;
  std::atomic<LogLevel> min_level_;
};

/// Points Logger::Global() at `sink` for the lifetime of this object, then restores the previous
/// sink (tests).
class ScopedLogSink {
 public:
  explicit ScopedLogSink(std::shared_ptr<LogSink> sink)
      : previous_(Logger::Global().SetSink(std::move(sink))) {}
  ~ScopedLogSink() { Logger::Global().SetSink(std::move(previous_)); }
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  std::shared_ptr<LogSink> previous_;
};

}  // namespace fhirbridge
