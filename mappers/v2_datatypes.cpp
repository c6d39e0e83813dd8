#include "mappers/v2_datatypes.h"

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
  const std::string system = SystemFor(ctx, cwe.component(first + 2).raw(), cwe.location());
  w.BeginObject();
  w.KeyString("system", system);
  w.KeyString("code", ctx.Text(code));
  const hl7v2::Element display = cwe.component(first + 1);
  if (display.has_value()) w.KeyString("display", ctx.Text(display));
  w.EndObject();
  return true;
}

bool WriteCodeableConcept(Context& ctx, JsonWriter& w, std::string_view key,
                          const hl7v2::Element& cwe) {
  if (!cwe.has_value()) return false;
  const bool primary = cwe.component(1).has_value();
  const bool alternate = cwe.component(4).has_value();
  std::string text;
  if (cwe.component(9).has_value()) {
    text = ctx.Text(cwe.component(9));
  } else if (!primary && cwe.component(2).has_value()) {
    text = ctx.Text(cwe.component(2));  // a display without a code is text, not a coding
  }
  if (!primary && !alternate && text.empty()) return false;
  w.Key(key);
  w.BeginObject();
  if (primary || alternate) {
    w.Key("coding");
    w.BeginArray();
    AppendCoding(ctx, w, cwe, 1);
    AppendCoding(ctx, w, cwe, 4);
    w.EndArray();
  }
  if (!text.empty()) w.KeyString("text", text);
  w.EndObject();
  return true;
}

void AppendSearchValue(std::string& out, std::string_view text) {
  // Most values (identities we built, URIs) need no escaping at all: copy those in one go.
  std::size_t plain_prefix = 0;
  for (; plain_prefix < text.size(); ++plain_prefix) {
    const char c = text[plain_prefix];
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/';
    if (!plain) break;
  }
  out.append(text.data(), plain_prefix);
  text.remove_prefix(plain_prefix);
  for (char c : text) {
    if (c == '\\' || c == '|' || c == ',' || c == '$') out += "%5C";  // FHIR search escape
    AppendPercentEncoded(out, std::string_view(&c, 1), ":/");
  }
}

std::string IdentifierQuery(std::string_view system, std::string_view value) {
  std::string q = "identifier=";
  AppendSearchValue(q, system);
  q += '|';
  AppendSearchValue(q, value);
  return q;
}

}  // namespace fhirbridge::mappers::pcd01
