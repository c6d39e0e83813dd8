#include "mappers/v2_datatypes.h"

#include <array>

#include "mappers/fhir_values.h"

namespace fhirbridge::mappers::pcd01 {

std::string SystemFor(Context& ctx, std::string_view name, const hl7v2::Location& where) {
  std::string scratch;
  std::string_view known = KnownSystemUri(name, scratch);
  if (!known.empty()) return std::string(known);
  auto it = ctx.opts.code_systems.find(name);
  if (it != ctx.opts.code_systems.end()) return it->second;
  std::string system = "urn:fhirbridge:source:";
  AppendIdentifierComponent(system, ctx.opts.source_name);
  system += ":code-system:";
  AppendIdentifierComponent(system, name.empty() ? std::string_view("unspecified") : name);
  ctx.Warning("code-unknown", where,
              "coding system '" + std::string(name) +
                  "' has no configured URI (sources[].code_systems); kept as " + system);
  return system;
}

bool AppendCoding(Context& ctx, JsonWriter& w, const hl7v2::Element& cwe, std::size_t first) {
  const hl7v2::Element code = cwe.component(first);
  if (!code.has_value()) return false;
  const std::string_view name = cwe.component(first + 2).raw();
  std::string system_scratch, configured, code_scratch, display_scratch;
  std::string_view system = KnownSystemUri(name, system_scratch);  // public systems: no copy
  if (system.empty()) system = configured = SystemFor(ctx, name, cwe.location());
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", ctx.TextView(code, code_scratch));
  const hl7v2::Element display = cwe.component(first + 1);
  if (display.has_value()) w.KeyString("display", ctx.TextView(display, display_scratch));
  w.EndObject();
  return true;
}

namespace {

// A CWE that is exactly a known MDC term's usual text ("<code>^<refid>^MDC", standard
// delimiters): its one coding is the prebuilt one (what AppendCoding writes for it), else null.
const std::string* KnownCoding(const Context& ctx, const hl7v2::Element& cwe) {
  const hl7v2::Delimiters& d = ctx.msg.delimiters();
  if (d.component != '^' || d.repetition != '~' || d.escape != '\\' || d.subcomponent != '&')
    return nullptr;
  const FragmentCache::KnownTerm* known = ctx.cache.known_obx3.Find(cwe.raw());
  return known != nullptr ? known->coding : nullptr;
}

// The HL7 null "" holds no value (hl7v2::Element::has_value).
std::string_view Value(std::string_view raw) { return raw == "\"\"" ? std::string_view() : raw; }

// AppendCoding for a CWE split into `parts` whose text is its bytes.
void AppendPlainCoding(Context& ctx, JsonWriter& w, const hl7v2::Element& cwe, const Parts& parts,
                       std::size_t first) {
  const std::string_view code = Value(parts[first]);
  if (code.empty()) return;
  const std::string_view name = parts[first + 2];
  std::string system_scratch, configured;
  std::string_view system = KnownSystemUri(name, system_scratch);  // public systems: no copy
  if (system.empty()) system = configured = SystemFor(ctx, name, cwe.location());
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", code);
  const std::string_view display = Value(parts[first + 1]);
  if (!display.empty()) w.KeyString("display", display);
  w.EndObject();
}

// The CodeableConcept of a CWE once its text is known: codings from components 1 and 4
// (`append(first)` writes one), then the text. False when there is nothing to write.
template <typename AppendCodingAt>
bool WriteConcept(JsonWriter& w, std::string_view key, bool primary, bool alternate,
                  std::string_view text, const AppendCodingAt& append) {
  if (!primary && !alternate && text.empty()) return false;
  w.Key(key);
  w.BeginObject();
  if (primary || alternate) {
    w.Key("coding");
    w.BeginArray();
    append(1);
    append(4);
    w.EndArray();
  }
  if (!text.empty()) w.KeyString("text", text);
  w.EndObject();
  return true;
}

// WriteCodeableConcept for a CWE whose text is its bytes (no escape, not Latin-1: the parser
// validated them): its components split once instead of one search each.
bool WritePlainCodeableConcept(Context& ctx, JsonWriter& w, std::string_view key,
                               const hl7v2::Element& cwe) {
  const Parts parts(cwe.raw(), ctx.msg.delimiters());
  const bool primary = !Value(parts[1]).empty();
  const bool alternate = !Value(parts[4]).empty();
  std::string_view text = Value(parts[9]);
  if (text.empty() && !primary) text = Value(parts[2]);  // a display without a code is text
  return WriteConcept(w, key, primary, alternate, text,
                      [&](std::size_t first) { AppendPlainCoding(ctx, w, cwe, parts, first); });
}

}  // namespace

bool WriteCodeableConcept(Context& ctx, JsonWriter& w, std::string_view key,
                          const hl7v2::Element& cwe) {
  if (!cwe.has_value()) return false;
  if (const std::string* coding = KnownCoding(ctx, cwe)) {
    w.Key(key);
    std::string& out = w.AppendRaw();
    out += R"({"coding":[)";
    out += *coding;
    out += "]}";
    return true;
  }
  if (ctx.IsPlainText(cwe.raw())) return WritePlainCodeableConcept(ctx, w, key, cwe);
  const bool primary = cwe.component(1).has_value();
  const bool alternate = cwe.component(4).has_value();
  std::string text;
  if (cwe.component(9).has_value()) {
    text = ctx.Text(cwe.component(9));
  } else if (!primary && cwe.component(2).has_value()) {
    text = ctx.Text(cwe.component(2));  // a display without a code is text, not a coding
  }
  return WriteConcept(w, key, primary, alternate, text,
                      [&](std::size_t first) { AppendCoding(ctx, w, cwe, first); });
}

namespace {

// Bytes a search value keeps as they are: [A-Za-z0-9-._~:/].
constexpr std::array<bool, 256> kSearchPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : {'-', '.', '_', '~', ':', '/'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

}  // namespace

void AppendSearchValue(std::string& out, std::string_view text) {
  // Most values (identities we built, URIs) need no escaping at all: copy those in one go.
  std::size_t plain_prefix = 0;
  while (plain_prefix < text.size() && kSearchPlain[static_cast<unsigned char>(text[plain_prefix])])
    ++plain_prefix;
  out.append(text.data(), plain_prefix);
  text.remove_prefix(plain_prefix);
  for (char c : text) {
    if (c == '\\' || c == '|' || c == ',' || c == '$') out += "%5C";  // FHIR search escape
    AppendPercentEncoded(out, std::string_view(&c, 1), ":/");
  }
}

std::string IdentifierQuery(std::string_view system, std::string_view value) {
  std::string q;
  q.reserve(12 + system.size() + value.size());  // enough unless something is escaped
  q = "identifier=";
  AppendSearchValue(q, system);
  q += '|';
  AppendSearchValue(q, value);
  return q;
}

}  // namespace fhirbridge::mappers::pcd01
