#include "mappers/terminology.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace fhirbridge::mappers {
namespace {

const Terminology& Builtin() {
  static const Terminology t = [] {
    Result<Terminology> r = Terminology::LoadBuiltin();
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    return std::move(r).value();
  }();
  return t;
}

// A small valid set of tables; tests break one line at a time.
struct SmallTables {
  std::string terms =
      "# comment\n"
      "#cf_code\trefid\tpartition\tterm_code\tsources\n"
      "68165\tMDC_ATTR_MDS_TIME_INFO\t1\t2629\tx73-20601\n"
      "68481\tMDC_ATTR_EVENT_PHASE\t1\t2945\tihe-pcd-tf2\n"
      "147842\tMDC_ECG_HEART_RATE\t2\t16770\thrtm\n"
      "150020\tMDC_PRESS_BLD_NONINV\t2\t18948\thrtm\n"
      "150021\tMDC_PRESS_BLD_NONINV_SYS\t2\t18949\thrtm\n"
      "264864\tMDC_DIM_BEAT_PER_MIN\t4\t2720\trtm-units\n"
      "266016\tMDC_DIM_MMHG\t4\t3872\trtm-units\n";
  std::string synonyms =
      "MDC_ATTR_EVENT_PHASE\t68165\talt-code\thrtm\n"
      "MDC_ECG_CARD_BEAT_RATE\t147842\tsynonym\thrtm\n"
      "NOM_ECG_CARD_BEAT_RATE\t147842\tvendor-alias\tphilips-nom\n";
  std::string units =
      "264864\tMDC_DIM_BEAT_PER_MIN\t{beat}/min\n"
      "266016\tMDC_DIM_MMHG\tmm[Hg]\n";
  std::string vitals =
      "147842\tMDC_ECG_HEART_RATE\t8867-4\tHeart rate\t\t\t"
      "http://hl7.org/fhir/StructureDefinition/heartrate\t/min\tsingle\t\n"
      "150020\tMDC_PRESS_BLD_NONINV\t85354-9\tBlood pressure panel with all children optional\t\t\t"
      "http://hl7.org/fhir/StructureDefinition/bp\t\tpanel\t\n"
      "150021\tMDC_PRESS_BLD_NONINV_SYS\t8480-6\tSystolic blood pressure\t\t\t"
      "http://hl7.org/fhir/StructureDefinition/bp\tmm[Hg]\tbp-systolic\t150020\n";
  std::string equivalents =
      "{beat}/min\t/min\n"
      "mmHg\tmm[Hg]\n";

  Result<Terminology> Load() const {
    return Terminology::Load({terms, synonyms, units, vitals, equivalents});
  }
};

// Expects an InvalidArgument whose message starts with `where` (e.g. "mdc_terms.tsv line 3:").
void ExpectError(const Result<Terminology>& r, const std::string& where) {
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.status().IsInvalidArgument());
  BOOST_TEST(r.status().message().rfind(where, 0) == 0, "message: " << r.status().message());
}

// Minimal RFC 4180 reader for the shared CSV files (quoted fields with commas and "").
std::vector<std::map<std::string, std::string>> ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      records.back().push_back(std::move(field));
      field.clear();
      records.emplace_back();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !records.back().empty()) records.back().push_back(std::move(field));
  std::vector<std::map<std::string, std::string>> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i].empty() || (records[i].size() == 1 && records[i][0].empty())) continue;
    std::map<std::string, std::string> row;
    for (std::size_t k = 0; k < records[0].size() && k < records[i].size(); ++k) {
      row[records[0][k]] = records[i][k];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The LOINC codes ("8867-4") in a free-text cell, in order, without repeats.
std::vector<std::string> LoincCodes(const std::string& text) {
  std::vector<std::string> out;
  auto digit = [&](std::size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!digit(i) || (i > 0 && digit(i - 1))) continue;
    std::size_t j = i;
    while (digit(j)) ++j;
    if (j - i > 7 || j >= text.size() || text[j] != '-' || !digit(j + 1) || digit(j + 2)) continue;
    std::string code = text.substr(i, j + 2 - i);
    if (std::find(out.begin(), out.end(), code) == out.end()) out.push_back(std::move(code));
  }
  return out;
}

std::filesystem::path MdcDir() {
  return std::filesystem::path(FHIRBRIDGE_SHARED_DIR) / "data" / "mdc";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(terminology)

BOOST_AUTO_TEST_CASE(builtin_tables_load) {
  Result<Terminology> t = Terminology::LoadBuiltin();
  BOOST_REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  BOOST_TEST(t->terms().size() > 800u);
  BOOST_TEST(t->vital_signs().size() >= 20u);
  // Sorted by code, codes unique.
  for (std::size_t i = 1; i < t->terms().size(); ++i) {
    BOOST_TEST(t->terms()[i - 1].code < t->terms()[i].code);
  }
}

BOOST_AUTO_TEST_CASE(codes_and_refids) {
  const Terminology& t = Builtin();
  const MdcTerm* spo2 = t.FindCode(150456);
  BOOST_REQUIRE(spo2 != nullptr);
  BOOST_TEST(spo2->refid == "MDC_PULS_OXIM_SAT_O2");
  BOOST_TEST(t.CodeForRefid("MDC_PULS_OXIM_SAT_O2").value_or(0) == 150456u);
  BOOST_TEST(t.IsConsistent(150456, "MDC_PULS_OXIM_SAT_O2"));
  BOOST_TEST(!t.IsConsistent(150456, "MDC_PRESS_BLD_ART"));
  BOOST_TEST(t.FindCode(42) == nullptr);
  BOOST_TEST(!t.CodeForRefid("MDC_NO_SUCH_THING"));

  // Heart rate: preferred name and its hRTM synonym.
  BOOST_TEST(t.FindCode(147842)->refid == "MDC_ECG_HEART_RATE");
  BOOST_TEST(t.IsConsistent(147842, "MDC_ECG_HEART_RATE"));
  BOOST_TEST(t.IsConsistent(147842, "MDC_ECG_CARD_BEAT_RATE"));
  BOOST_TEST(t.CodeForRefid("MDC_ECG_CARD_BEAT_RATE").value_or(0) == 147842u);

  // ACM attributes: IHE PCD TF-2 codes preferred, hRTM codes still consistent.
  BOOST_TEST(t.IsConsistent(68481, "MDC_ATTR_EVENT_PHASE"));
  BOOST_TEST(t.IsConsistent(68165, "MDC_ATTR_EVENT_PHASE"));
  BOOST_TEST(t.CodeForRefid("MDC_ATTR_EVENT_PHASE").value_or(0) == 68481u);
  BOOST_TEST(t.FindCode(68481)->refid == "MDC_ATTR_EVENT_PHASE");
  BOOST_TEST(t.FindCode(68480)->refid == "MDC_ATTR_ALERT_SOURCE");
  BOOST_TEST(t.FindCode(68485)->refid == "MDC_ATTR_ALERT_TYPE");
  // 68165 itself is the IEEE 20601 attribute.
  BOOST_TEST(t.FindCode(68165)->refid == "MDC_ATTR_MDS_TIME_INFO");
  BOOST_TEST(!t.IsConsistent(68482, "MDC_ATTR_EVENT_PHASE"));

  // Vendor aliases are not MDC refids.
  BOOST_TEST(t.CodeForVendorAlias("NOM_ECG_CARD_BEAT_RATE").value_or(0) == 147842u);
  BOOST_TEST(!t.CodeForRefid("NOM_ECG_CARD_BEAT_RATE"));
  BOOST_TEST(!t.IsConsistent(147842, "NOM_ECG_CARD_BEAT_RATE"));
}

BOOST_AUTO_TEST_CASE(units) {
  const Terminology& t = Builtin();
  auto ucum = [&](std::uint32_t code) { return t.UcumForMdcUnit(code).value_or("<none>"); };
  BOOST_TEST(ucum(266016) == "mm[Hg]");
  BOOST_TEST(ucum(262688) == "%");
  BOOST_TEST(ucum(264864) == "{beat}/min");
  BOOST_TEST(ucum(264928) == "{breath}/min");
  BOOST_TEST(ucum(268192) == "Cel");
  BOOST_TEST(ucum(264338) == "ms");
  BOOST_TEST(ucum(262656) == "1");
  BOOST_TEST(ucum(263875) == "kg");
  BOOST_TEST(ucum(265266) == "mL/h");
  BOOST_TEST(ucum(265619) == "ug/kg/min");
  BOOST_TEST(ucum(264608) == "/s");
  BOOST_TEST(ucum(266418) == "mV");
  BOOST_TEST(ucum(266304) == "A");       // RTM erratum 'a' (year) fixed
  BOOST_TEST(ucum(262144) == "<none>");  // MDC_DIM_NOS: no unit
  BOOST_TEST(ucum(268928) == "<none>");  // two sources, two different units
  BOOST_TEST(ucum(150456) == "<none>");  // not a unit

  BOOST_TEST(t.MdcUnitCodeForRefid("MDC_DIM_MMHG").value_or(0) == 266016u);
  BOOST_TEST(t.MdcUnitCodeForRefid("MDC_DIM_KILO_G").value_or(0) == 263875u);
  // Short unit names without the prefix placeholder X, as devices send them.
  BOOST_TEST(t.MdcUnitCodeForRefid("MDC_DIM_PER_SEC").value_or(0) == 264608u);
  BOOST_TEST(t.IsConsistent(264320, "MDC_DIM_SEC"));
  BOOST_TEST(t.IsConsistent(264608, "MDC_DIM_PER_X_SEC"));
  BOOST_TEST(!t.MdcUnitCodeForRefid("MDC_PULS_OXIM_SAT_O2"));
  BOOST_TEST(!t.IsConsistent(262688, "MDC_DIM_MMHG"));
}

BOOST_AUTO_TEST_CASE(vital_signs) {
  const Terminology& t = Builtin();
  using Role = VitalSign::Role;

  const VitalSign* spo2 = t.FindVitalSign(150456);
  BOOST_REQUIRE(spo2 != nullptr);
  BOOST_TEST(spo2->loinc == "2708-6");
  BOOST_TEST(spo2->loinc_display == "Oxygen saturation in Arterial blood");
  BOOST_TEST(spo2->extra_loinc == "59408-5");
  BOOST_TEST(spo2->extra_loinc_display == "Oxygen saturation in Arterial blood by Pulse oximetry");
  BOOST_TEST(spo2->profile_url == "http://hl7.org/fhir/StructureDefinition/oxygensat");
  BOOST_TEST(spo2->units == std::vector<std::string_view>{"%"}, boost::test_tools::per_element());
  BOOST_TEST((spo2->role == Role::kSingle));

  const VitalSign* hr = t.FindVitalSign(147842);
  BOOST_REQUIRE(hr != nullptr);
  BOOST_TEST(hr->loinc == "8867-4");
  BOOST_TEST(hr->profile_url == "http://hl7.org/fhir/StructureDefinition/heartrate");
  // The device unit {beat}/min becomes the profile's fixed /min.
  BOOST_TEST(t.ProfileUnit(*hr, *t.UcumForMdcUnit(264864)).value_or("") == "/min");
  BOOST_TEST(t.ProfileUnit(*hr, "/min").value_or("") == "/min");
  BOOST_TEST(!t.ProfileUnit(*hr, "/s"));
  for (std::uint32_t code : {149530u, 149546u, 149522u}) {
    BOOST_TEST(t.FindVitalSign(code)->loinc == "8867-4");
  }

  const VitalSign* panel = t.FindVitalSign(150020);
  BOOST_REQUIRE(panel != nullptr);
  BOOST_TEST((panel->role == Role::kPanel));
  BOOST_TEST(panel->loinc == "85354-9");
  BOOST_TEST(panel->loinc_display == "Blood pressure panel with all children optional");
  BOOST_TEST(panel->profile_url == "http://hl7.org/fhir/StructureDefinition/bp");
  BOOST_TEST(panel->units.empty());

  struct Part {
    std::uint32_t code;
    Role role;
    std::string_view loinc;
    std::uint32_t panel;
  };
  for (const Part& p :
       {Part{150021, Role::kSystolic, "8480-6", 150020},
        Part{150022, Role::kDiastolic, "8462-4", 150020}, Part{150023, Role::kMean, "", 150020},
        Part{150301, Role::kSystolic, "8480-6", 150020},
        Part{150302, Role::kDiastolic, "8462-4", 150020}, Part{150303, Role::kMean, "", 150020},
        Part{150033, Role::kSystolic, "8480-6", 150032},
        Part{150034, Role::kDiastolic, "8462-4", 150032}, Part{150035, Role::kMean, "", 150032}}) {
    const VitalSign* v = t.FindVitalSign(p.code);
    BOOST_REQUIRE_MESSAGE(v != nullptr, p.code);
    BOOST_TEST((v->role == p.role), p.code);
    BOOST_TEST(v->loinc == p.loinc);
    BOOST_TEST(v->panel_mdc_code == p.panel);
    BOOST_TEST(t.ProfileUnit(*v, "mm[Hg]").value_or("") == "mm[Hg]");
    BOOST_TEST(t.ProfileUnit(*v, "mmHg").value_or("") == "mm[Hg]");
    BOOST_TEST(!t.ProfileUnit(*v, "kPa"));  // would need a factor
  }
  BOOST_TEST(t.FindVitalSign(150021)->loinc_display == "Systolic blood pressure");
  BOOST_TEST(t.FindVitalSign(150022)->loinc_display == "Diastolic blood pressure");

  for (std::uint32_t code : {151562u, 151578u, 151570u}) {
    const VitalSign* v = t.FindVitalSign(code);
    BOOST_REQUIRE(v != nullptr);
    BOOST_TEST(v->loinc == "9279-1");
    BOOST_TEST(t.ProfileUnit(*v, "{breath}/min").value_or("") == "/min");
  }
  for (std::uint32_t code : {150344u, 150364u}) {
    const VitalSign* v = t.FindVitalSign(code);
    BOOST_REQUIRE(v != nullptr);
    BOOST_TEST(v->loinc == "8310-5");
    BOOST_TEST(v->loinc_display == "Body temperature");
    BOOST_TEST(t.ProfileUnit(*v, "[degF]").value_or("") == "[degF]");
    BOOST_TEST(t.ProfileUnit(*v, "degC").value_or("") == "Cel");
    BOOST_TEST(!t.ProfileUnit(*v, "K"));
  }
  const VitalSign* weight = t.FindVitalSign(188736);
  BOOST_REQUIRE(weight != nullptr);
  BOOST_TEST(weight->loinc == "29463-7");
  BOOST_TEST(weight->units.front() == "kg");
  BOOST_TEST(t.ProfileUnit(*weight, "[lb_av]").value_or("") == "[lb_av]");
  BOOST_TEST(t.ProfileUnit(*weight, "g").value_or("") == "g");
  const VitalSign* height = t.FindVitalSign(188740);
  BOOST_REQUIRE(height != nullptr);
  BOOST_TEST(height->loinc == "8302-2");
  BOOST_TEST(t.ProfileUnit(*height, "[in_i]").value_or("") == "[in_i]");
  BOOST_TEST(!t.ProfileUnit(*height, "mm"));

  BOOST_TEST(t.FindVitalSign(150087) == nullptr);  // CVP: not a FHIR vital sign
  // Every vital sign's MDC pair is a known term.
  for (const VitalSign& v : t.vital_signs()) {
    BOOST_TEST(t.IsConsistent(v.mdc_code, v.mdc_refid), v.mdc_code);
  }
}

BOOST_AUTO_TEST_CASE(load_small_tables_and_move) {
  std::optional<Terminology> moved;
  {
    SmallTables tables;
    Result<Terminology> r = tables.Load();
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    moved.emplace(std::move(r).value());
    tables = SmallTables{};  // the caller's text changes or goes away: the views must not care
    tables.terms.assign(tables.terms.size(), 'x');
  }
  const Terminology copy = *moved;  // NOLINT: copies share the text
  for (const Terminology* t : {&std::as_const(*moved), &copy}) {
    BOOST_TEST(t->FindCode(147842)->refid == "MDC_ECG_HEART_RATE");
    BOOST_TEST(t->IsConsistent(147842, "MDC_ECG_CARD_BEAT_RATE"));
    BOOST_TEST(t->IsConsistent(68165, "MDC_ATTR_EVENT_PHASE"));
    BOOST_TEST(t->IsConsistent(68165, "MDC_ATTR_MDS_TIME_INFO"));
    BOOST_TEST(t->CodeForRefid("MDC_ATTR_EVENT_PHASE").value_or(0) == 68481u);
    BOOST_TEST(t->CodeForVendorAlias("NOM_ECG_CARD_BEAT_RATE").value_or(0) == 147842u);
    BOOST_TEST(t->UcumForMdcUnit(266016).value_or("") == "mm[Hg]");
    const VitalSign* sys = t->FindVitalSign(150021);
    BOOST_REQUIRE(sys != nullptr);
    BOOST_TEST(sys->loinc_display == "Systolic blood pressure");
    BOOST_TEST(t->ProfileUnit(*sys, "mmHg").value_or("") == "mm[Hg]");
  }
}

BOOST_AUTO_TEST_CASE(malformed_tables_name_file_and_line) {
  {
    SmallTables t;
    t.terms += "150456\tMDC_PULS_OXIM_SAT_O2\t2\n";  // line 10: 3 columns
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.terms += "150456\tMDC_PULS_OXIM_SAT_O2\t2\t19385\thrtm\n";  // term code does not match
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.terms += "15x456\tMDC_PULS_OXIM_SAT_O2\t2\t19384\thrtm\n";
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.terms += "769\tMDC_ECG_AMPL_ST_I\t0\t769\thrtm\n";  // no partition
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.terms += "150022\tMDC_ECG_HEART_RATE\t2\t18950\thrtm\n";  // refid already has a code
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.terms += "147842\tMDC_OTHER\t2\t16770\thrtm\n";  // code repeats
    ExpectError(t.Load(), "mdc_terms.tsv line 10:");
  }
  {
    SmallTables t;
    t.synonyms += "MDC_SOMETHING\t999999\tsynonym\thrtm\n";  // unknown code
    ExpectError(t.Load(), "mdc_synonyms.tsv line 4:");
  }
  {
    SmallTables t;
    t.synonyms += "MDC_ECG_HEART_RATE\t150020\tsynonym\thrtm\n";  // has a preferred code
    ExpectError(t.Load(), "mdc_synonyms.tsv line 4:");
  }
  {
    SmallTables t;
    t.synonyms += "MDC_NEW\t150020\talt-code\thrtm\n";  // alt-code without a preferred code
    ExpectError(t.Load(), "mdc_synonyms.tsv line 4:");
  }
  {
    SmallTables t;
    t.synonyms += "MDC_NEW\t150020\tcousin\thrtm\n";
    ExpectError(t.Load(), "mdc_synonyms.tsv line 4:");
  }
  {
    SmallTables t;
    t.units += "266016\tMDC_DIM_PERCENT\t%\n";  // not a pair of the terms
    ExpectError(t.Load(), "mdc_units.tsv line 3:");
  }
  {
    SmallTables t;
    t.units = "150456\tMDC_PULS_OXIM_SAT_O2\t%\n";  // not a unit code
    ExpectError(t.Load(), "mdc_units.tsv line 1:");
  }
  {
    SmallTables t;
    t.vitals +=
        "150022\tMDC_PRESS_BLD_NONINV_DIA\t8462-4\tDiastolic blood pressure\t\t\t"
        "http://hl7.org/fhir/StructureDefinition/bp\tmm[Hg]\tbp-diastolic\t150020\n";
    ExpectError(t.Load(), "vital_signs.tsv line 4:");  // 150022 is not in the terms
  }
  {
    SmallTables t;
    t.vitals +=
        "266016\tMDC_DIM_MMHG\t8480-6\tSystolic blood pressure\t\t\t"
        "http://hl7.org/fhir/StructureDefinition/bp\tmm[Hg]\tsideways\t\n";
    ExpectError(t.Load(), "vital_signs.tsv line 4:");  // unknown role
  }
  {
    SmallTables t;
    t.vitals +=
        "266016\tMDC_DIM_MMHG\t8480-6\tSystolic blood pressure\t\t\t"
        "http://hl7.org/fhir/StructureDefinition/bp\tmm[Hg]\tbp-systolic\t147842\n";
    ExpectError(t.Load(), "vital_signs.tsv line 4:");  // panel_code is not a panel
  }
  {
    SmallTables t;
    t.vitals +=
        "264864\tMDC_DIM_BEAT_PER_MIN\t8867\tHeart rate\t\t\t"
        "http://hl7.org/fhir/StructureDefinition/heartrate\t/min\tsingle\t\n";
    ExpectError(t.Load(), "vital_signs.tsv line 4:");  // invalid LOINC
  }
  {
    SmallTables t;
    t.equivalents += "{beat}/min\t1/min\n";
    ExpectError(t.Load(), "ucum_equivalents.tsv line 3:");
  }
  {
    SmallTables t;
    t.equivalents += "mm Hg\tmm[Hg]\n";
    ExpectError(t.Load(), "ucum_equivalents.tsv line 3:");
  }
  {
    // CRLF line ends and a missing final newline are tolerated.
    SmallTables t;
    t.units = "264864\tMDC_DIM_BEAT_PER_MIN\t{beat}/min\r\n266016\tMDC_DIM_MMHG\tmm[Hg]";
    Result<Terminology> r = t.Load();
    BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    BOOST_TEST(r->UcumForMdcUnit(266016).value_or("") == "mm[Hg]");
  }
}

// The committed tables agree with the facts in ../shared/data/mdc.
BOOST_AUTO_TEST_CASE(tables_agree_with_shared_mdc_data) {
  const Terminology& t = Builtin();
  std::size_t checked = 0;
  for (const auto& row : ReadCsv(MdcDir() / "mdc_vitals_quickref.csv")) {
    const std::string& cf = row.at("cf_code");
    const std::vector<std::string> loincs = LoincCodes(row.at("fhir_vitalsigns_loinc"));
    if (cf.empty() || loincs.empty()) continue;
    const std::uint32_t code = static_cast<std::uint32_t>(std::stoul(cf));
    const VitalSign* v = t.FindVitalSign(code);
    BOOST_REQUIRE_MESSAGE(v != nullptr, "vital_signs.tsv has no row for " << cf);
    BOOST_TEST(v->loinc == loincs[0], cf);
    if (loincs.size() > 1) BOOST_TEST(v->extra_loinc == loincs[1], cf);
    BOOST_TEST(t.IsConsistent(code, row.at("refid")), cf);
    ++checked;
  }
  BOOST_TEST(checked >= 18u);

  checked = 0;
  for (const auto& row : ReadCsv(MdcDir() / "rtm_units.csv")) {
    if (row.at("cf_code").empty()) continue;
    const std::uint32_t code = static_cast<std::uint32_t>(std::stoul(row.at("cf_code")));
    std::string refid = row.at("uom_mdc");
    while (!refid.empty() && refid.back() == '#') refid.pop_back();  // export artefact
    BOOST_TEST(t.FindUnit(code) != nullptr, "no mdc_units.tsv row for " << code);
    BOOST_TEST(t.IsConsistent(code, refid), code << " " << refid);
    ++checked;
  }
  BOOST_TEST(checked > 300u);

  // Every hRTM term with a full context-free code is known under that code, except the ACM
  // attributes whose hRTM codes are alternatives (still consistent).
  checked = 0;
  for (const auto& row : ReadCsv(MdcDir() / "hrtm_harmonized.csv")) {
    if (row.at("cf_code").empty()) continue;
    const std::uint32_t code = static_cast<std::uint32_t>(std::stoul(row.at("cf_code")));
    if (code < 0x10000) continue;  // bare term code: not a context-free code
    BOOST_TEST(t.IsConsistent(code, row.at("refid")), code << " " << row.at("refid"));
    ++checked;
  }
  BOOST_TEST(checked > 400u);

  // The IEEE 20601 list (Antidote) likewise.
  for (const auto& row : ReadCsv(MdcDir() / "antidote_20601_nomenclature.csv")) {
    const std::uint32_t code = static_cast<std::uint32_t>(std::stoul(row.at("cf_code")));
    BOOST_TEST(t.IsConsistent(code, row.at("refid")), code << " " << row.at("refid"));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace fhirbridge::mappers
