#include "mappers/terminology.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <unordered_map>

namespace fhirbridge::mappers {

namespace embedded {
// Defined in the file cmake/embed_files.cmake generates from mappers/terminology/*.tsv.
std::string_view mdc_terms_tsv();
std::string_view mdc_synonyms_tsv();
std::string_view mdc_units_tsv();
std::string_view vital_signs_tsv();
std::string_view ucum_equivalents_tsv();
}  // namespace embedded

namespace {

constexpr std::string_view kTermsFile = "mdc_terms.tsv";
constexpr std::string_view kSynonymsFile = "mdc_synonyms.tsv";
constexpr std::string_view kUnitsFile = "mdc_units.tsv";
constexpr std::string_view kVitalsFile = "vital_signs.tsv";
constexpr std::string_view kEquivalentsFile = "ucum_equivalents.tsv";

constexpr std::size_t kMaxColumns = 10;

Status RowError(std::string_view file, std::size_t line, std::string_view what) {
  std::string msg(file);
  msg += " line ";
  msg += std::to_string(line);
  msg += ": ";
  msg += what;
  return Status::InvalidArgument(std::move(msg));
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  out += s;
  out += '\'';
  return out;
}

// One data row of a table: its line number and its tab-separated fields.
struct Row {
  std::size_t line = 0;
  std::size_t count = 0;
  std::string_view fields[kMaxColumns];
};

// Calls `fn(row)` for every line that is neither empty nor a '#' comment. Every such line must
// have exactly `columns` tab-separated fields.
template <typename Fn>
Status ForEachRow(std::string_view file, std::string_view text, std::size_t columns, Fn&& fn) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Row row;
    row.line = line_no;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      if (row.count == columns) {
        return RowError(file, line_no, "more than " + std::to_string(columns) + " columns");
      }
      row.fields[row.count++] =
          line.substr(start, tab == std::string_view::npos ? tab : tab - start);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (row.count != columns) {
      return RowError(file, line_no,
                      "expected " + std::to_string(columns) + " tab-separated columns, found " +
                          std::to_string(row.count));
    }
    for (std::size_t i = 0; i < row.count; ++i) {
      for (char c : row.fields[i]) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          return RowError(file, line_no, "control character in column " + std::to_string(i + 1));
        }
      }
    }
    FHIRBRIDGE_RETURN_IF_ERROR(fn(row));
  }
  return Status::Ok();
}

std::optional<std::uint32_t> ParseUint32(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// MDC reference ids and vendor names: letters, digits and '_' (MDC_ECG_TIME_PD_QTc).
bool IsName(std::string_view s, std::string_view prefix) {
  if (s.size() <= prefix.size() || s.substr(0, prefix.size()) != prefix) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsRefid(std::string_view s) { return IsName(s, "MDC_"); }

// A UCUM code or a unit spelling devices send: printable ASCII, no spaces, no list separator.
bool IsUnitToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f && c != ','; });
}

// LOINC: digits, '-', one check digit.
bool IsLoinc(std::string_view s) {
  const std::size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 7 || s.size() != dash + 2) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '-'; }) &&
         s.find('-', dash + 1) == std::string_view::npos;
}

std::optional<VitalSign::Role> ParseRole(std::string_view s) {
  if (s == "single") return VitalSign::Role::kSingle;
  if (s == "panel") return VitalSign::Role::kPanel;
  if (s == "bp-systolic") return VitalSign::Role::kSystolic;
  if (s == "bp-diastolic") return VitalSign::Role::kDiastolic;
  if (s == "bp-mean") return VitalSign::Role::kMean;
  return std::nullopt;
}

template <typename Vec, typename Key, typename Proj>
auto FindSorted(const Vec& v, const Key& key, Proj proj) -> decltype(&*v.begin()) {
  auto it = std::lower_bound(v.begin(), v.end(), key,
                             [&](const auto& e, const Key& k) { return proj(e) < k; });
  if (it == v.end() || !(proj(*it) == key)) return nullptr;
  return &*it;
}

}  // namespace

// Builds a Terminology from table text; the views point into that text.
class TerminologyParser {
 public:
  static Result<Terminology> Parse(const TerminologyTables& tables) {
    TerminologyParser p;
    FHIRBRIDGE_RETURN_IF_ERROR(p.ParseTerms(tables.mdc_terms));
    FHIRBRIDGE_RETURN_IF_ERROR(p.ParseSynonyms(tables.mdc_synonyms));
    p.Index();
    FHIRBRIDGE_RETURN_IF_ERROR(p.ParseUnits(tables.mdc_units));
    FHIRBRIDGE_RETURN_IF_ERROR(p.ParseEquivalents(tables.ucum_equivalents));
    FHIRBRIDGE_RETURN_IF_ERROR(p.ParseVitals(tables.vital_signs));
    return std::move(p.t_);
  }

 private:
  // Row layout: cf_code refid partition term_code sources
  Status ParseTerms(std::string_view text) {
    std::unordered_map<std::uint32_t, std::size_t> code_line;
    return ForEachRow(kTermsFile, text, 5, [&](const Row& r) -> Status {
      const auto code = ParseUint32(r.fields[0]);
      if (!code) return RowError(kTermsFile, r.line, "invalid cf_code " + Quoted(r.fields[0]));
      if (*code < 0x10000) {
        return RowError(kTermsFile, r.line,
                        "cf_code " + std::to_string(*code) + " has no partition");
      }
      if (!IsRefid(r.fields[1])) {
        return RowError(kTermsFile, r.line, "invalid refid " + Quoted(r.fields[1]));
      }
      const auto partition = ParseUint32(r.fields[2]);
      const auto term = ParseUint32(r.fields[3]);
      if (!partition || !term || *partition != (*code >> 16) || *term != (*code & 0xFFFFu)) {
        return RowError(kTermsFile, r.line,
                        "partition/term_code do not match cf_code " + std::to_string(*code));
      }
      if (r.fields[4].empty()) return RowError(kTermsFile, r.line, "empty sources");
      if (auto [it, fresh] = code_line.emplace(*code, r.line); !fresh) {
        return RowError(
            kTermsFile, r.line,
            "cf_code " + std::to_string(*code) + " repeats line " + std::to_string(it->second));
      }
      if (auto [it, fresh] = term_refid_line_.emplace(r.fields[1], r.line); !fresh) {
        return RowError(kTermsFile, r.line,
                        "refid " + std::string(r.fields[1]) + " repeats line " +
                            std::to_string(it->second) + " (a refid has one preferred code)");
      }
      t_.terms_.push_back({*code, r.fields[1]});
      t_.consistent_.emplace_back(*code, r.fields[1]);
      t_.refid_codes_.emplace_back(r.fields[1], *code);
      return Status::Ok();
    });
  }

  // Row layout: refid cf_code kind source
  Status ParseSynonyms(std::string_view text) {
    std::sort(t_.terms_.begin(), t_.terms_.end(),
              [](const MdcTerm& a, const MdcTerm& b) { return a.code < b.code; });
    std::unordered_map<std::string_view, std::size_t> alias_line;
    std::map<std::pair<std::uint32_t, std::string_view>, std::size_t> pair_line;
    return ForEachRow(kSynonymsFile, text, 4, [&](const Row& r) -> Status {
      const std::string_view name = r.fields[0];
      const std::string_view kind = r.fields[2];
      const auto code = ParseUint32(r.fields[1]);
      if (!code || *code < 0x10000) {
        return RowError(kSynonymsFile, r.line, "invalid cf_code " + Quoted(r.fields[1]));
      }
      if (r.fields[3].empty()) return RowError(kSynonymsFile, r.line, "empty source");
      if (kind == "vendor-alias") {
        if (!IsName(name, "NOM_")) {
          return RowError(kSynonymsFile, r.line, "invalid vendor alias " + Quoted(name));
        }
        if (auto [it, fresh] = alias_line.emplace(name, r.line); !fresh) {
          return RowError(kSynonymsFile, r.line,
                          std::string(name) + " repeats line " + std::to_string(it->second));
        }
        t_.vendor_aliases_.emplace_back(name, *code);
        return Status::Ok();
      }
      if (!IsRefid(name)) return RowError(kSynonymsFile, r.line, "invalid refid " + Quoted(name));
      const MdcTerm* term = FindSorted(t_.terms_, *code, [](const MdcTerm& m) { return m.code; });
      if (term == nullptr) {
        return RowError(
            kSynonymsFile, r.line,
            "cf_code " + std::to_string(*code) + " is not in " + std::string(kTermsFile));
      }
      if (term->refid == name) {
        return RowError(
            kSynonymsFile, r.line,
            std::string(name) + " is already the preferred refid of " + std::to_string(*code));
      }
      if (kind == "synonym" || kind == "homonym") {
        // The refid gets its code from this row, so it may have no other.
        if (auto it = term_refid_line_.find(name); it != term_refid_line_.end()) {
          return RowError(kSynonymsFile, r.line,
                          "refid " + std::string(name) + " has a preferred code (" +
                              std::string(kTermsFile) + " line " + std::to_string(it->second) +
                              "); use kind alt-code");
        }
        if (auto [it, fresh] = synonym_refid_line_.emplace(name, r.line); !fresh) {
          return RowError(kSynonymsFile, r.line,
                          "refid " + std::string(name) + " already has a code (line " +
                              std::to_string(it->second) + ")");
        }
        t_.refid_codes_.emplace_back(name, *code);
      } else if (kind == "alt-code") {
        if (term_refid_line_.find(name) == term_refid_line_.end()) {
          return RowError(kSynonymsFile, r.line,
                          "alt-code for " + std::string(name) +
                              ", which has no preferred code in " + std::string(kTermsFile));
        }
      } else {
        return RowError(kSynonymsFile, r.line, "unknown kind " + Quoted(kind));
      }
      if (auto [it, fresh] = pair_line.emplace(std::pair(*code, name), r.line); !fresh) {
        return RowError(kSynonymsFile, r.line,
                        "pair " + std::to_string(*code) + " " + std::string(name) +
                            " repeats line " + std::to_string(it->second));
      }
      t_.consistent_.emplace_back(*code, name);
      return Status::Ok();
    });
  }

  // Lookup vectors of the terms and synonyms, sorted for binary search.
  void Index() {
    std::sort(t_.refid_codes_.begin(), t_.refid_codes_.end());
    std::sort(t_.consistent_.begin(), t_.consistent_.end());
    std::sort(t_.vendor_aliases_.begin(), t_.vendor_aliases_.end());
  }

  // Row layout: cf_code refid ucum (ucum may be empty)
  Status ParseUnits(std::string_view text) {
    FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(kUnitsFile, text, 3, [&](const Row& r) -> Status {
      const auto code = ParseUint32(r.fields[0]);
      if (!code || (*code >> 16) != 4) {
        return RowError(kUnitsFile, r.line, "invalid unit cf_code " + Quoted(r.fields[0]));
      }
      if (!t_.IsConsistent(*code, r.fields[1])) {
        return RowError(kUnitsFile, r.line,
                        std::to_string(*code) + " " + std::string(r.fields[1]) +
                            " is not a pair in " + std::string(kTermsFile) + "/" +
                            std::string(kSynonymsFile));
      }
      if (!r.fields[2].empty() && !IsUnitToken(r.fields[2])) {
        return RowError(kUnitsFile, r.line, "invalid UCUM code " + Quoted(r.fields[2]));
      }
      t_.units_.push_back({*code, r.fields[1], r.fields[2]});
      return Status::Ok();
    }));
    std::stable_sort(t_.units_.begin(), t_.units_.end(),
                     [](const MdcUnit& a, const MdcUnit& b) { return a.code < b.code; });
    for (std::size_t i = 1; i < t_.units_.size(); ++i) {
      if (t_.units_[i].code == t_.units_[i - 1].code) {
        return Status::InvalidArgument(std::string(kUnitsFile) + ": unit code " +
                                       std::to_string(t_.units_[i].code) + " appears twice");
      }
    }
    return Status::Ok();
  }

  // Row layout: from_ucum to_ucum
  Status ParseEquivalents(std::string_view text) {
    std::unordered_map<std::string_view, std::size_t> from_line;
    FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(kEquivalentsFile, text, 2, [&](const Row& r) -> Status {
      if (!IsUnitToken(r.fields[0]) || !IsUnitToken(r.fields[1])) {
        return RowError(kEquivalentsFile, r.line, "invalid unit");
      }
      if (r.fields[0] == r.fields[1]) {
        return RowError(kEquivalentsFile, r.line, "a unit equivalent to itself");
      }
      if (auto [it, fresh] = from_line.emplace(r.fields[0], r.line); !fresh) {
        return RowError(kEquivalentsFile, r.line,
                        Quoted(r.fields[0]) + " repeats line " + std::to_string(it->second));
      }
      t_.equivalents_.emplace_back(r.fields[0], r.fields[1]);
      return Status::Ok();
    }));
    std::sort(t_.equivalents_.begin(), t_.equivalents_.end());
    for (const auto& [from, to] : t_.equivalents_) {
      if (t_.UcumEquivalent(to)) {
        return Status::InvalidArgument(std::string(kEquivalentsFile) + ": " + Quoted(to) +
                                       " is both a target and a source (no chains)");
      }
    }
    return Status::Ok();
  }

  // Row layout: mdc_cf_code mdc_refid loinc loinc_display extra_loinc extra_loinc_display
  //             profile_url ucum_units role panel_code
  Status ParseVitals(std::string_view text) {
    std::unordered_map<std::uint32_t, std::size_t> code_line;
    std::vector<std::pair<std::uint32_t, std::size_t>> panel_refs;  // (panel code, line)
    FHIRBRIDGE_RETURN_IF_ERROR(ForEachRow(kVitalsFile, text, 10, [&](const Row& r) -> Status {
      VitalSign v;
      const auto code = ParseUint32(r.fields[0]);
      if (!code || t_.FindCode(*code) == nullptr) {
        return RowError(
            kVitalsFile, r.line,
            "MDC code " + Quoted(r.fields[0]) + " is not in " + std::string(kTermsFile));
      }
      if (!t_.IsConsistent(*code, r.fields[1])) {
        return RowError(kVitalsFile, r.line,
                        std::string(r.fields[1]) + " is not a name of " + std::to_string(*code));
      }
      if (auto [it, fresh] = code_line.emplace(*code, r.line); !fresh) {
        return RowError(
            kVitalsFile, r.line,
            "MDC code " + std::to_string(*code) + " repeats line " + std::to_string(it->second));
      }
      v.mdc_code = *code;
      v.mdc_refid = r.fields[1];
      const auto role = ParseRole(r.fields[8]);
      if (!role) return RowError(kVitalsFile, r.line, "unknown role " + Quoted(r.fields[8]));
      v.role = *role;
      v.loinc = r.fields[2];
      v.loinc_display = r.fields[3];
      v.extra_loinc = r.fields[4];
      v.extra_loinc_display = r.fields[5];
      if (v.loinc.empty() != (v.role == VitalSign::Role::kMean)) {
        return RowError(kVitalsFile, r.line, "a LOINC code is required except for bp-mean");
      }
      for (auto [code_text, display] :
           {std::pair(v.loinc, v.loinc_display), std::pair(v.extra_loinc, v.extra_loinc_display)}) {
        if (!code_text.empty() && !IsLoinc(code_text)) {
          return RowError(kVitalsFile, r.line, "invalid LOINC code " + Quoted(code_text));
        }
        if (code_text.empty() != display.empty()) {
          return RowError(kVitalsFile, r.line, "a LOINC code needs a display and vice versa");
        }
      }
      v.profile_url = r.fields[6];
      if (v.profile_url.substr(0, 7) != "http://" && v.profile_url.substr(0, 8) != "https://") {
        return RowError(kVitalsFile, r.line, "invalid profile_url " + Quoted(v.profile_url));
      }
      std::string_view units = r.fields[7];
      while (!units.empty()) {
        const std::size_t comma = units.find(',');
        const std::string_view unit = units.substr(0, comma);
        if (!IsUnitToken(unit)) {
          return RowError(kVitalsFile, r.line, "invalid unit list " + Quoted(r.fields[7]));
        }
        v.units.push_back(unit);
        if (comma == std::string_view::npos) break;
        units.remove_prefix(comma + 1);
        if (units.empty()) {
          return RowError(kVitalsFile, r.line, "invalid unit list " + Quoted(r.fields[7]));
        }
      }
      if (v.units.empty() != (v.role == VitalSign::Role::kPanel)) {
        return RowError(kVitalsFile, r.line, "units are required, except for a panel (none)");
      }
      for (std::string_view unit : v.units) v.profile_units.emplace_back(unit, unit);
      for (const auto& [from, to] : t_.equivalents_) {
        if (std::find(v.units.begin(), v.units.end(), to) != v.units.end())
          v.profile_units.emplace_back(from, to);
      }
      const bool component = v.role == VitalSign::Role::kSystolic ||
                             v.role == VitalSign::Role::kDiastolic ||
                             v.role == VitalSign::Role::kMean;
      if (component) {
        const auto panel = ParseUint32(r.fields[9]);
        if (!panel) {
          return RowError(kVitalsFile, r.line, "a bp component needs a panel_code");
        }
        v.panel_mdc_code = *panel;
        panel_refs.emplace_back(*panel, r.line);
      } else if (!r.fields[9].empty()) {
        return RowError(kVitalsFile, r.line, "panel_code is only for bp components");
      }
      t_.vitals_.push_back(std::move(v));
      return Status::Ok();
    }));
    std::sort(t_.vitals_.begin(), t_.vitals_.end(),
              [](const VitalSign& a, const VitalSign& b) { return a.mdc_code < b.mdc_code; });
    for (const auto& [panel, line] : panel_refs) {
      const VitalSign* p = t_.FindVitalSign(panel);
      if (p == nullptr || p->role != VitalSign::Role::kPanel) {
        return RowError(kVitalsFile, line,
                        "panel_code " + std::to_string(panel) + " is not a panel row");
      }
    }
    return Status::Ok();
  }

  Terminology t_;
  std::unordered_map<std::string_view, std::size_t> term_refid_line_;     // preferred refids
  std::unordered_map<std::string_view, std::size_t> synonym_refid_line_;  // synonym/homonym refids
};

Result<Terminology> Terminology::LoadBuiltin() {
  return TerminologyParser::Parse({
      .mdc_terms = embedded::mdc_terms_tsv(),
      .mdc_synonyms = embedded::mdc_synonyms_tsv(),
      .mdc_units = embedded::mdc_units_tsv(),
      .vital_signs = embedded::vital_signs_tsv(),
      .ucum_equivalents = embedded::ucum_equivalents_tsv(),
  });
}

Result<Terminology> Terminology::Load(const TerminologyTables& tables) {
  // Copy the text so the views outlive the caller's buffers; the strings live on the heap behind
  // shared pointers, so moving or copying the Terminology never moves them.
  std::vector<std::shared_ptr<const std::string>> owned;
  auto keep = [&owned](std::string_view text) {
    owned.push_back(std::make_shared<const std::string>(text));
    return std::string_view(*owned.back());
  };
  TerminologyTables copy;
  copy.mdc_terms = keep(tables.mdc_terms);
  copy.mdc_synonyms = keep(tables.mdc_synonyms);
  copy.mdc_units = keep(tables.mdc_units);
  copy.vital_signs = keep(tables.vital_signs);
  copy.ucum_equivalents = keep(tables.ucum_equivalents);
  Result<Terminology> parsed = TerminologyParser::Parse(copy);
  if (!parsed.ok()) return parsed.status();
  parsed->owned_text_ = std::move(owned);
  return parsed;
}

const MdcTerm* Terminology::FindCode(std::uint32_t cf_code) const {
  return FindSorted(terms_, cf_code, [](const MdcTerm& t) { return t.code; });
}

std::optional<std::uint32_t> Terminology::CodeForRefid(std::string_view refid) const {
  const auto* e = FindSorted(refid_codes_, refid, [](const auto& p) { return p.first; });
  if (e == nullptr) return std::nullopt;
  return e->second;
}

bool Terminology::IsConsistent(std::uint32_t cf_code, std::string_view refid) const {
  return std::binary_search(consistent_.begin(), consistent_.end(),
                            std::pair<std::uint32_t, std::string_view>(cf_code, refid));
}

std::optional<std::uint32_t> Terminology::CodeForVendorAlias(std::string_view name) const {
  const auto* e = FindSorted(vendor_aliases_, name, [](const auto& p) { return p.first; });
  if (e == nullptr) return std::nullopt;
  return e->second;
}

const MdcUnit* Terminology::FindUnit(std::uint32_t unit_cf_code) const {
  return FindSorted(units_, unit_cf_code, [](const MdcUnit& u) { return u.code; });
}

std::optional<std::string_view> Terminology::UcumForMdcUnit(std::uint32_t unit_cf_code) const {
  const MdcUnit* unit = FindUnit(unit_cf_code);
  if (unit == nullptr || unit->ucum.empty()) return std::nullopt;
  return unit->ucum;
}

std::optional<std::uint32_t> Terminology::MdcUnitCodeForRefid(std::string_view refid) const {
  const auto code = CodeForRefid(refid);
  if (!code || (*code >> 16) != 4) return std::nullopt;
  return code;
}

const VitalSign* Terminology::FindVitalSign(std::uint32_t mdc_code) const {
  return FindSorted(vitals_, mdc_code, [](const VitalSign& v) { return v.mdc_code; });
}

std::optional<std::string_view> Terminology::UcumEquivalent(std::string_view ucum) const {
  const auto* e = FindSorted(equivalents_, ucum, [](const auto& p) { return p.first; });
  if (e == nullptr) return std::nullopt;
  return e->second;
}

std::optional<std::string_view> Terminology::ProfileUnit(const VitalSign& vital,
                                                         std::string_view ucum) const {
  if (!vital.profile_units.empty()) {
    for (const auto& [sent, allowed] : vital.profile_units) {
      if (sent.size() == ucum.size() && sent == ucum) return allowed;
    }
    return std::nullopt;
  }
  for (std::string_view allowed : vital.units) {
    if (allowed == ucum) return allowed;
  }
  if (const auto same = UcumEquivalent(ucum)) {
    for (std::string_view allowed : vital.units) {
      if (allowed == *same) return allowed;
    }
  }
  return std::nullopt;
}

}  // namespace fhirbridge::mappers
