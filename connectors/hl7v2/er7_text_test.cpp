// ER7 parser: Element::Text() (escape sequences) and MSH-18 character sets.

#include <boost/test/unit_test.hpp>

#include <string>

#include "connectors/hl7v2/er7.h"

BOOST_TEST_DONT_PRINT_LOG_VALUE(fhirbridge::hl7v2::Charset)

namespace fhirbridge::hl7v2 {
namespace {

/// A message whose MSH-18 is `charset` and whose NTE-3 is `value`; kept alive with its parse.
struct Message {
  Message(std::string_view value, std::string_view charset = "",
          std::string_view encoding = "^~\\&") {
    bytes = "MSH|" + std::string(encoding) + "|APP|FAC|||20240101||ORU^R01|1|P|2.6||||||" +
            std::string(charset) + "\rPID|1\rNTE|1||" + std::string(value) + "\r";
    parsed.emplace(Parse(bytes));
  }
  bool ok() const { return parsed->ok(); }
  std::string error() const { return parsed->status().message(); }
  Element nte3() const { return (**parsed).segment(2).field(3); }
  /// The offset of NTE-3 in the message.
  std::size_t value_offset() const { return bytes.find("NTE|1||") + 7; }

  std::string bytes;
  std::optional<Result<ParsedMessage>> parsed;
};

std::string TextOf(std::string_view value, std::string_view charset = "") {
  Message m(value, charset);
  BOOST_REQUIRE_MESSAGE(m.ok(), m.error());
  auto text = m.nte3().Text();
  BOOST_REQUIRE_MESSAGE(text.ok(), text.status().ToString());
  return *text;
}

std::string TextError(std::string_view value, std::string_view charset = "") {
  Message m(value, charset);
  BOOST_REQUIRE_MESSAGE(m.ok(), m.error());
  auto text = m.nte3().Text();
  BOOST_REQUIRE_MESSAGE(!text.ok(), "expected a Text() error");
  BOOST_TEST(text.status().IsInvalidArgument());
  return text.status().message();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(er7_escapes)

BOOST_AUTO_TEST_CASE(plain_text_is_copied) {
  BOOST_TEST(TextOf("Hello world") == "Hello world");
  BOOST_TEST(TextOf("") == "");
  BOOST_TEST(TextOf("\"\"") == "");
}

BOOST_AUTO_TEST_CASE(delimiter_escapes) {
  BOOST_TEST(TextOf("a\\F\\b") == "a|b");
  BOOST_TEST(TextOf("a\\S\\b") == "a^b");
  BOOST_TEST(TextOf("a\\T\\b") == "a&b");
  BOOST_TEST(TextOf("a\\R\\b") == "a~b");
  BOOST_TEST(TextOf("a\\E\\b") == "a\\b");
  BOOST_TEST(TextOf("\\F\\\\S\\\\T\\\\R\\\\E\\") == "|^&~\\");
  BOOST_TEST(TextOf("\\E\\E\\E\\") == "\\E\\");
}

BOOST_AUTO_TEST_CASE(escapes_use_the_message_delimiters) {
  const std::string bytes =
      "MSH#$%*@#A#F###20240101##ORU$R01#1#P#2.5\rNTE#1##x*F*y*S*z*E*w*T*v*R*\r";
  auto r = Parse(bytes);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  BOOST_TEST(r->segment(1).field(3).Text().value() == "x#y$z*w@v%");
}

BOOST_AUTO_TEST_CASE(truncation_escape_needs_five_encoding_characters) {
  Message five("a\\P\\b", "", "^~\\&#");
  BOOST_REQUIRE_MESSAGE(five.ok(), five.error());
  BOOST_TEST(five.nte3().Text().value() == "a#b");
  BOOST_TEST(TextOf("a\\P\\b") == "a\\P\\b");  // not declared: kept as an unknown escape
}

BOOST_AUTO_TEST_CASE(hex_escapes) {
  BOOST_TEST(TextOf("\\X41\\") == "A");
  BOOST_TEST(TextOf("x\\X414243\\y") == "xABCy");
  BOOST_TEST(TextOf("\\X0D0A\\") == "\r\n");
  BOOST_TEST(TextOf("a\\X\\b") == "ab");
  BOOST_TEST(TextOf("\\X6a\\") == "j");  // lower-case hex digits
  BOOST_TEST(TextOf("\\XC3A9\\", "UNICODE UTF-8") == "\xC3\xA9");
  BOOST_TEST(TextOf("\\XC3\\\\XA9\\", "UNICODE UTF-8") ==
             "\xC3\xA9");                                 // one character, two escapes
  BOOST_TEST(TextOf("\\XE9\\", "8859/1") == "\xC3\xA9");  // é in Latin-1
}

BOOST_AUTO_TEST_CASE(malformed_hex_escapes) {
  Message odd("ab\\X4\\", "");
  BOOST_TEST(TextError("ab\\X4\\") == "odd number of hex digits in \\X escape sequence at byte " +
                                          std::to_string(odd.value_offset() + 2));
  BOOST_TEST(TextError("\\XZZ\\").rfind("invalid hex digit in \\X escape sequence at byte ", 0) ==
             0u);
  BOOST_TEST(TextError("\\X00\\").find("decodes to a NUL byte") != std::string::npos);
  BOOST_TEST(TextError("\\XE9\\").find(
                 "decodes to byte 0xE9, which is not ASCII (MSH-18 declares ASCII)") !=
             std::string::npos);
  BOOST_TEST(TextError("\\XC3\\", "UNICODE UTF-8").find("invalid UTF-8 (truncated sequence)") !=
             std::string::npos);
  BOOST_TEST(TextError("\\XC0AF\\", "UNICODE UTF-8").find("invalid UTF-8 (overlong encoding)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(unterminated_escape_names_its_byte) {
  Message m("abc\\F", "");
  BOOST_TEST(TextError("abc\\F") ==
             "unterminated escape sequence at byte " + std::to_string(m.value_offset() + 3));
  BOOST_TEST(TextError("\\").rfind("unterminated escape sequence at byte ", 0) == 0u);
  BOOST_TEST(TextError("\\F\\\\S").rfind("unterminated escape sequence", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(line_break_and_formatting_escapes) {
  BOOST_TEST(TextOf("line 1\\.br\\line 2") == "line 1\nline 2");
  BOOST_TEST(TextOf("\\H\\bold\\N\\ text") == "bold text");
  for (std::string_view format : {"\\.sp\\", "\\.sp 2\\", "\\.sp+2\\", "\\.in+4\\", "\\.in -2\\",
                                  "\\.ti-4\\", "\\.sk 3\\", "\\.fi\\", "\\.nf\\", "\\.ce\\"}) {
    BOOST_TEST(TextOf("a" + std::string(format) + "b") == "ab", format);
  }
}

BOOST_AUTO_TEST_CASE(charset_and_local_escapes_are_dropped) {
  BOOST_TEST(TextOf("a\\C2842\\b") == "ab");
  BOOST_TEST(TextOf("a\\M2442\\b") == "ab");
  BOOST_TEST(TextOf("a\\M244241\\b") == "ab");
  BOOST_TEST(TextOf("a\\Z99XY\\b") == "ab");
}

BOOST_AUTO_TEST_CASE(unknown_escapes_are_kept_as_sent) {
  BOOST_TEST(TextOf("C:\\temp\\file") == "C:\\temp\\file");
  BOOST_TEST(TextOf("a\\\\b") == "a\\\\b");
  BOOST_TEST(TextOf("\\.xx\\") == "\\.xx\\");
  BOOST_TEST(TextOf("\\.fi2\\") == "\\.fi2\\");
  BOOST_TEST(TextOf("\\Cat\\") == "\\Cat\\");
  BOOST_TEST(TextOf("\\f\\") == "\\f\\");
}

BOOST_AUTO_TEST_CASE(text_of_a_field_keeps_its_separators) {
  Message m("a\\S\\b^c&d~e");
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(m.nte3().Text().value() == "a^b^c&d~e");
  BOOST_TEST(m.nte3().component(1).Text().value() == "a^b");
  BOOST_TEST(m.nte3().component(2).subcomponent(2).Text().value() == "d");
  BOOST_TEST(m.nte3().repetition(2).Text().value() == "e");
}

BOOST_AUTO_TEST_CASE(null_gives_empty_text) {
  Message m("\"\"^\"\"");
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(m.nte3().component(1).Text().value() == "");
  BOOST_TEST(m.nte3().Text().value() == "\"\"^\"\"");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(er7_charsets)

BOOST_AUTO_TEST_CASE(msh_18_names) {
  const std::pair<std::string_view, Charset> cases[] = {
      {"", Charset::kAscii},
      {"ASCII", Charset::kAscii},
      {"ascii", Charset::kAscii},
      {"8859/1", Charset::kLatin1},
      {"UNICODE UTF-8", Charset::kUtf8},
      {"UTF-8", Charset::kUtf8},
      {"UNICODE UTF8", Charset::kUtf8},
      {"UNICODE UTF-8~8859/1", Charset::kUtf8},
  };
  for (const auto& [name, charset] : cases) {
    Message m("x", name);
    BOOST_REQUIRE_MESSAGE(m.ok(), m.error());
    BOOST_TEST((m.parsed->value().charset() == charset), name);
  }
  // MSH-18 absent altogether.
  const std::string bytes = "MSH|^~\\&|A\rPID|1\r";
  BOOST_TEST(Parse(bytes)->charset() == Charset::kAscii);
}

BOOST_AUTO_TEST_CASE(unsupported_charsets_are_refused) {
  for (std::string_view name : {"8859/2", "ISO IR87", "UNICODE UTF-16", "UNICODE", "8859/15"}) {
    Message m("x", name);
    BOOST_TEST(!m.ok());
    BOOST_TEST(m.parsed->status().IsInvalidArgument());
    BOOST_TEST(m.error() == "MSH-18: character set '" + std::string(name) +
                                "' is not supported (ASCII, 8859/1, UNICODE UTF-8)");
  }
  Message first_counts("x", "8859/2~UNICODE UTF-8");
  BOOST_TEST(first_counts.error().rfind("MSH-18: character set '8859/2'", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(ascii_refuses_high_bytes_with_their_location) {
  Message m("Ren\xE9", "ASCII");
  BOOST_TEST(!m.ok());
  BOOST_TEST(m.error() == "NTE[1]-3: byte 0xE9 is not valid ASCII (MSH-18 declares ASCII)");
  Message blank("x", "");
  const std::string bytes = blank.bytes + "PID|1||||Ren\xE9";
  BOOST_TEST(Parse(bytes).status().message() ==
             "PID[2]-5: byte 0xE9 is not valid ASCII (MSH-18 is empty, which means ASCII)");
  const std::string in_msh = "MSH|^~\\&|APP\xE9|FAC\r";
  BOOST_TEST(Parse(in_msh).status().message() ==
             "MSH-3: byte 0xE9 is not valid ASCII (MSH-18 is empty, which means ASCII)");
}

BOOST_AUTO_TEST_CASE(latin1_becomes_utf8) {
  Message m("Ren\xE9 M\xFCller\\S\\", "8859/1");
  BOOST_REQUIRE_MESSAGE(m.ok(), m.error());
  BOOST_TEST(m.nte3().raw() == "Ren\xE9 M\xFCller\\S\\");
  BOOST_TEST(m.nte3().Text().value() == "Ren\xC3\xA9 M\xC3\xBCller^");
  Message plain("Ren\xE9", "8859/1");
  BOOST_TEST(plain.nte3().Text().value() == "Ren\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(utf8_is_accepted_when_well_formed) {
  const std::string value =
      "Ren\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  BOOST_TEST(TextOf(value, "UNICODE UTF-8") == value);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused_with_its_location_and_reason) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"\xC3", "byte 0xC3 is not valid UTF-8 (missing continuation byte"},
      {"\xC0\x80", "byte 0xC0 is not valid UTF-8 (overlong encoding"},
      {"\xE0\x80\x80", "byte 0xE0 is not valid UTF-8 (overlong encoding"},
      {"\xF0\x80\x80\x80", "byte 0xF0 is not valid UTF-8 (overlong encoding"},
      {"\xED\xA0\x80", "byte 0xED is not valid UTF-8 (surrogate code point"},
      {"\xF4\x90\x80\x80", "byte 0xF4 is not valid UTF-8 (code point above U+10FFFF"},
      {"\xF5\x80\x80\x80", "byte 0xF5 is not valid UTF-8 (byte never used in UTF-8"},
      {"a\x80", "byte 0x80 is not valid UTF-8 (continuation byte without a lead byte"},
      {"\xE2\x82", "byte 0xE2 is not valid UTF-8 (missing continuation byte"},
  };
  for (const auto& [value, expected] : cases) {
    Message m(value, "UNICODE UTF-8");
    BOOST_TEST(!m.ok());
    BOOST_TEST(m.error() ==
               "NTE[1]-3: " + std::string(expected) + "; MSH-18 declares UNICODE UTF-8)");
  }
  // Cut off by the end of the message.
  const std::string cut = Message("x", "UNICODE UTF-8").bytes + "NTE|2|\xE2\x82";
  BOOST_TEST(
      Parse(cut).status().message() ==
      "NTE[2]-2: byte 0xE2 is not valid UTF-8 (truncated sequence; MSH-18 declares UNICODE UTF-8)");
}

BOOST_AUTO_TEST_CASE(utf8_sequences_across_block_boundaries) {
  // A 2-, 3- and 4-byte character at every offset relative to the scanner's 16-byte blocks,
  // with a bad one after it so that a sequence wrongly skipped would hide the error.
  for (std::string_view ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (std::size_t pad = 0; pad < 20; ++pad) {
      const std::string value = std::string(pad, 'x') + std::string(ch) + "y" + std::string(ch);
      BOOST_TEST(TextOf(value, "UNICODE UTF-8") == value);
      Message bad(
          std::string(pad, 'x') + std::string(ch) + std::string(ch.substr(0, ch.size() - 1)) + "|",
          "UNICODE UTF-8");
      BOOST_TEST(!bad.ok());
      BOOST_TEST(bad.error().rfind("NTE[1]-3: byte ", 0) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(latin1_accepts_every_byte_but_control_characters) {
  std::string value;
  for (int b = 0x20; b <= 0xFF; ++b) {
    if (b != '|' && b != '^' && b != '~' && b != '\\' && b != '&')
      value.push_back(static_cast<char>(b));
  }
  Message m(value, "8859/1");
  BOOST_REQUIRE_MESSAGE(m.ok(), m.error());
  auto text = m.nte3().Text();
  BOOST_REQUIRE(text.ok());
  BOOST_TEST(text->size() == value.size() + 128);  // every byte >= 0x80 takes two in UTF-8
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::hl7v2

namespace fhirbridge::hl7v2 {
namespace {

BOOST_AUTO_TEST_SUITE(er7_raw_components)

BOOST_AUTO_TEST_CASE(match_component_by_component) {
  const std::string text =
      "MSH|^~\\&|A||||20240101||ORU^R01|1|P|2.6\r"
      "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC^^^^^^SpO2~2^x|1.1.1.1||^^UCUM||\r";
  auto parsed = Parse(text);
  BOOST_REQUIRE(parsed.ok());
  const Segment obx = parsed->segment(1);
  for (std::size_t f : {3u, 4u, 5u, 6u, 7u}) {
    const Element field = obx.field(f);
    std::string_view parts[12];
    const std::size_t n = field.RawComponents(parts, 12);
    BOOST_TEST(n == field.component_count(), "field " << f);
    for (std::size_t c = 1; c <= 12; ++c)
      BOOST_TEST(parts[c - 1] == field.component(c).raw(), "field " << f << " component " << c);
  }
  std::string_view few[2];
  BOOST_TEST(obx.field(3).RawComponents(few, 2) == 9u);  // the count even when max is smaller
  BOOST_TEST(few[1] == "MDC_PULS_OXIM_SAT_O2");
  std::string_view one[3];
  BOOST_TEST(obx.field(3).component(2).RawComponents(one, 3) == 1u);
  BOOST_TEST(one[0] == "MDC_PULS_OXIM_SAT_O2");
  BOOST_TEST(one[1].empty());
  // From the raw field bytes: the same split, without an Element.
  std::string_view from_raw[12];
  const Element obx3 = obx.field(3);
  BOOST_TEST(Element::RawComponents(obx3.raw(), parsed->delimiters(), from_raw, 12) == 9u);
  for (std::size_t c = 1; c <= 12; ++c)
    BOOST_TEST(from_raw[c - 1] == obx3.component(c).raw(), "component " << c);
}

BOOST_AUTO_TEST_CASE(raw_fields_match_field_by_field) {
  const std::string text =
      "MSH|^~\\&|A||||20240101||ORU^R01|1|P|2.6\r"
      "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC\r"
      "NTE\r";
  auto parsed = Parse(text);
  BOOST_REQUIRE(parsed.ok());
  for (std::size_t s = 0; s < parsed->segment_count(); ++s) {
    const Segment seg = parsed->segment(s);
    std::string_view fields[9] = {"x", "x", "x", "x", "x", "x", "x", "x", "x"};
    BOOST_TEST(seg.RawFields(fields, 9) == seg.field_count(), "segment " << s);
    for (std::size_t n = 0; n < 9; ++n)  // past the last field (and for MSH) as field_raw gives
      BOOST_TEST(fields[n] == seg.field_raw(n), "segment " << s << " field " << n);
  }
  std::string_view none[1] = {"x"};
  BOOST_TEST(parsed->segment(7).RawFields(none, 1) == 0u);  // no such segment
  BOOST_TEST(none[0].empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::hl7v2
