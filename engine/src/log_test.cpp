#include "fhirbridge/log.h"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <thread>

namespace fhirbridge {
namespace {

// 2026-11-21T06:31:17.123Z
constexpr std::int64_t kFixedMillis = 1795242677123;

LogRecord FixedRecord(LogLevel level, LogName event, std::vector<LogField> fields) {
  return LogRecord{std::chrono::system_clock::time_point(std::chrono::milliseconds(kFixedMillis)),
                   level, event, std::move(fields)};
}

static_assert(LogName::IsValid("message.accepted"));
static_assert(!LogName::IsValid("Message Accepted"));
static_assert(!LogName::IsValid(""));

BOOST_AUTO_TEST_SUITE(log)

BOOST_AUTO_TEST_CASE(logfmt_line) {
  const LogRecord record =
      FixedRecord(LogLevel::kInfo, "message.accepted",
                  {LogField::Source("icu"), LogField::Id("control_id", "MSG1"),
                   LogField::Count("segments", 23), LogField::Code("ack", "AA"),
                   LogField::Duration("elapsed", std::chrono::microseconds(1250))});
  BOOST_TEST(FormatLogfmt(record) ==
             "ts=2026-11-21T06:31:17.123Z level=info event=message.accepted source=icu "
             "control_id=MSG1 segments=23 ack=AA elapsed=1.250ms");
}

BOOST_AUTO_TEST_CASE(levels) {
  BOOST_TEST(LogLevelName(LogLevel::kDebug) == "debug");
  BOOST_TEST(LogLevelName(LogLevel::kWarn) == "warn");
  const LogRecord record = FixedRecord(LogLevel::kError, "store.commit_failed", {});
  BOOST_TEST(FormatLogfmt(record) ==
             "ts=2026-11-21T06:31:17.123Z level=error event=store.commit_failed");
}

BOOST_AUTO_TEST_CASE(values_with_spaces_and_quotes_are_quoted) {
  const LogRecord record =
      FixedRecord(LogLevel::kWarn, "message.rejected",
                  {LogField::Id("control_id", "A B"), LogField::Id("peer_id", R"(x"y\z=1)"),
                   LogField::Id("batch", "")});
  BOOST_TEST(FormatLogfmt(record) ==
             R"(ts=2026-11-21T06:31:17.123Z level=warn event=message.rejected control_id="A B" )"
             R"(peer_id="x\"y\\z=1" batch="")");
}

BOOST_AUTO_TEST_CASE(ids_are_validated) {
  BOOST_TEST(LogField::Id("control_id", "20261121063117-0001").text() == "20261121063117-0001");
  BOOST_TEST(LogField::Id("control_id", std::string(64, 'x')).text() == std::string(64, 'x'));
  BOOST_TEST(LogField::Id("control_id", std::string(65, 'x')).text() == "<invalid id>");
  BOOST_TEST(LogField::Id("control_id", "a\nb").text() == "<invalid id>");
  BOOST_TEST(LogField::Id("control_id", "M\xc3\xbcller").text() == "<invalid id>");
  BOOST_TEST(LogField::Id("control_id", std::string("a\0b", 3)).text() == "<invalid id>");
}

BOOST_AUTO_TEST_CASE(codes_are_short_tokens) {
  BOOST_TEST(LogField::Code("ack", "AA").text() == "AA");
  BOOST_TEST(LogField::Code("status", "INVALID_ARGUMENT").text() == "INVALID_ARGUMENT");
  BOOST_TEST(LogField::Code("mdc", "MDC_PULS_OXIM_SAT_O2").text() == "MDC_PULS_OXIM_SAT_O2");
  BOOST_TEST(LogField::Code("version", "2.6:urn:x-1").text() == "2.6:urn:x-1");
  BOOST_TEST(LogField::Code("ack", std::string(33, 'A')).text() == "<invalid code>");
  BOOST_TEST(LogField::Code("ack", "A A").text() == "<invalid code>");
}

BOOST_AUTO_TEST_CASE(a_name_passed_as_a_code_does_not_appear) {
  const LogRecord record =
      FixedRecord(LogLevel::kInfo, "message.accepted",
                  {LogField::Code("patient", "Doe^John"), LogField::Source("Doe^John"),
                   LogField::Code("dob", "19700101 Smith")});
  const std::string line = FormatLogfmt(record);
  BOOST_TEST(line.find("Doe") == std::string::npos, line);
  BOOST_TEST(line.find("John") == std::string::npos, line);
  BOOST_TEST(line.find("Smith") == std::string::npos, line);
  BOOST_TEST(line.find("patient=\"<invalid code>\"") != std::string::npos, line);
  BOOST_TEST(line.find("source=\"<invalid source>\"") != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(counts_and_durations) {
  const LogField count = LogField::Count("segments", 23);
  BOOST_TEST((count.kind() == LogField::Kind::kCount));
  BOOST_TEST(count.count() == 23);
  BOOST_TEST(LogField::Count("retries", -1).text() == "-1");
  BOOST_TEST(LogField::Duration("elapsed", std::chrono::microseconds(0)).text() == "0.000ms");
  BOOST_TEST(LogField::Duration("elapsed", std::chrono::microseconds(7)).text() == "0.007ms");
  BOOST_TEST(LogField::Duration("elapsed", std::chrono::seconds(2)).text() == "2000.000ms");
  BOOST_TEST(LogField::Duration("elapsed", std::chrono::microseconds(-1500)).text() == "-1.500ms");
  BOOST_TEST(LogField::Duration("elapsed", std::chrono::microseconds(1500)).duration().count() ==
             1500);
}

BOOST_AUTO_TEST_CASE(timestamps_before_1970) {
  const LogRecord record =
      LogRecord{std::chrono::system_clock::time_point(std::chrono::milliseconds(-1)),
                LogLevel::kInfo,
                "clock.odd",
                {}};
  BOOST_TEST(FormatLogfmt(record).rfind("ts=1969-12-31T23:59:59.999Z ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(capturing_sink_and_levels) {
  auto sink = std::make_shared<CapturingLogSink>();
  Logger logger(sink, LogLevel::kInfo);
  logger.Debug("connection.opened", {LogField::Source("icu")});
  logger.Info("message.accepted", {LogField::Source("icu"), LogField::Id("control_id", "MSG1"),
                                   LogField::Count("segments", 23)});
  logger.Error("store.commit_failed", {LogField::Code("status", "UNAVAILABLE")});
  const std::vector<LogRecord> records = sink->records();
  BOOST_TEST_REQUIRE(records.size() == 2u);
  BOOST_TEST(records[0].event.view() == "message.accepted");
  BOOST_TEST((records[0].level == LogLevel::kInfo));
  BOOST_TEST_REQUIRE(records[0].Find("control_id") != nullptr);
  BOOST_TEST(records[0].Find("control_id")->text() == "MSG1");
  BOOST_TEST(records[0].Find("missing") == nullptr);
  BOOST_TEST((records[1].level == LogLevel::kError));
  BOOST_TEST(sink->lines()[0].find(
                 "level=info event=message.accepted source=icu control_id=MSG1 segments=23") !=
             std::string::npos);

  logger.SetMinLevel(LogLevel::kDebug);
  BOOST_TEST(logger.Enabled(LogLevel::kDebug));
  logger.Debug("connection.opened");
  BOOST_TEST(sink->records().size() == 3u);
  sink->Clear();
  BOOST_TEST(sink->records().empty());
}

BOOST_AUTO_TEST_CASE(global_logger_can_be_pointed_elsewhere) {
  auto sink = std::make_shared<CapturingLogSink>();
  {
    ScopedLogSink scoped(sink);
    Logger::Global().Warn("delivery.retry", {LogField::Code("http_status", "503")});
  }
  Logger::Global().SetMinLevel(LogLevel::kError);  // keep the next line off the test's stderr
  Logger::Global().Warn("delivery.retry");
  Logger::Global().SetMinLevel(LogLevel::kInfo);
  BOOST_TEST_REQUIRE(sink->records().size() == 1u);
  BOOST_TEST(sink->records()[0].Find("http_status")->text() == "503");

  // A null sink discards.
  auto previous = Logger::Global().SetSink(nullptr);
  Logger::Global().Error("discarded");
  Logger::Global().SetSink(previous);
}

BOOST_AUTO_TEST_CASE(logfmt_sink_writes_whole_lines) {
  std::FILE* file = std::tmpfile();
  BOOST_TEST_REQUIRE(file != nullptr);
  auto sink = std::make_shared<LogfmtSink>(file);
  Logger logger(sink);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 100; ++i) {
        logger.Info("message.accepted", {LogField::Count("thread", t), LogField::Count("i", i)});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::rewind(file);
  int lines = 0;
  char buf[256];
  while (std::fgets(buf, sizeof buf, file) != nullptr) {
    const std::string line(buf);
    BOOST_TEST(line.find("level=info event=message.accepted thread=") != std::string::npos, line);
    BOOST_TEST(line.back() == '\n');
    ++lines;
  }
  std::fclose(file);
  BOOST_TEST(lines == 400);
}

BOOST_AUTO_TEST_CASE(sink_swap_while_logging) {
  auto first = std::make_shared<CapturingLogSink>();
  auto second = std::make_shared<CapturingLogSink>();
  Logger logger(first);
  std::thread writer([&logger] {
    for (int i = 0; i < 1000; ++i) logger.Info("tick", {LogField::Count("i", i)});
  });
  for (int i = 0; i < 100; ++i) logger.SetSink(i % 2 == 0 ? second : first);
  writer.join();
  BOOST_TEST(first->records().size() + second->records().size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge
