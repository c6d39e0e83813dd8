#include "display_name.h"

namespace fhirbridge::ucum {
namespace {

void AppendTerm(const Term& term, const EssenceTable& table, std::string& out);

void AppendComponent(const Component& c, const EssenceTable& table, std::string& out) {
  switch (c.kind) {
    case Component::Kind::kUnit:
      out += '(';
      if (c.prefix) out += table.prefixes()[*c.prefix].name;
      out += table.atoms()[c.atom].name;
      if (c.exponent != 1) out += " ^ " + std::to_string(c.exponent);
      out += ')';
      break;
    case Component::Kind::kFactor:
      out += c.factor_text;
      break;
    case Component::Kind::kAnnotation:
      break;
    case Component::Kind::kGroup:
      out += '(';
      AppendTerm(c.group, table, out);
      out += ')';
      break;
  }
  if (c.annotation) {
    if (c.kind != Component::Kind::kAnnotation) out += ' ';
    out += '{' + *c.annotation + '}';
  }
}

void AppendTerm(const Term& term, const EssenceTable& table, std::string& out) {
  for (std::size_t i = 0; i < term.size(); ++i) {
    if (i > 0) {
      out += term[i].divide ? " / " : " * ";
    } else if (term[i].divide) {
      out += "1 / ";
    }
    AppendComponent(term[i].component, table, out);
  }
}

}  // namespace

std::string DisplayName(const Term& term, const EssenceTable& table) {
  if (term.empty()) return "(unity)";
  std::string out;
  AppendTerm(term, table, out);
  return out;
}

}  // namespace fhirbridge::ucum
