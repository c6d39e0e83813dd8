#include "essence_table.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <string>

#include "ucum.h"

namespace fhirbridge::ucum {
namespace {

std::string ReadShared(const std::string& relative) {
  std::ifstream in(std::string(FHIRBRIDGE_SHARED_DIR) + "/" + relative, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool IsDataLoss(const Status& s) { return s.code() == Status::Code::kDataLoss; }

// Seven base units m, s, g, rad, K, C, cd, then the rows under test.
std::string TableWith(const std::string& rows) {
  std::string t =
      "# test\nkind\tcode\tmetric\tspecial\tarbitrary\tvalue\tunit\tfunction\tname\tps\tp\n";
  for (const char* b : {"m", "s", "g", "rad", "K", "C", "cd"}) {
    t += std::string("base\t") + b + "\ty\tn\tn\t1\tL\t\t" + b + "\t\t\n";
  }
  return t + rows;
}

BOOST_AUTO_TEST_SUITE(ucum_essence_table)

BOOST_AUTO_TEST_CASE(embedded_table_holds_every_prefix_and_unit_of_essence) {
  std::string xml = ReadShared("data/fhir/ucum/ucum-essence.xml");
  BOOST_REQUIRE(!xml.empty());
  Result<EssenceTable> table = EssenceTable::Parse(EssenceTable::EmbeddedText());
  BOOST_REQUIRE_MESSAGE(table.ok(), table.status().ToString());
  BOOST_TEST(table->prefixes().size() == Count(xml, "<prefix "));
  BOOST_TEST(table->atoms().size() == Count(xml, "<unit ") + Count(xml, "<base-unit "));
  BOOST_TEST(table->base_atoms().size() == 7u);
}

BOOST_AUTO_TEST_CASE(lookups_are_exact_and_case_sensitive) {
  Result<EssenceTable> table = EssenceTable::Parse(EssenceTable::EmbeddedText());
  BOOST_REQUIRE(table.ok());
  auto inch = table->FindAtom("[in_i]");
  BOOST_REQUIRE(inch.has_value());
  BOOST_TEST(!table->atoms()[*inch].metric);
  BOOST_TEST(table->atoms()[*inch].unit == "cm");
  auto cel = table->FindAtom("Cel");
  BOOST_REQUIRE(cel.has_value());
  BOOST_TEST(table->atoms()[*cel].special);
  BOOST_TEST(table->atoms()[*cel].function == "Cel");
  BOOST_TEST(!table->FindAtom("CEL").has_value());
  BOOST_TEST(table->FindPrefix("da").has_value());
  BOOST_TEST(!table->FindPrefix("DA").has_value());
  auto metre = table->FindAtom("m");
  BOOST_REQUIRE(metre.has_value());
  BOOST_TEST(table->BaseIndex(*metre).has_value());
  BOOST_TEST(!table->BaseIndex(*inch).has_value());
}

BOOST_AUTO_TEST_CASE(malformed_tables_are_data_loss) {
  BOOST_TEST(IsDataLoss(
      EssenceTable::Parse(TableWith("unit\tx\ty\tn\tn\t1\tm\n")).status()));  // too few columns
  BOOST_TEST(IsDataLoss(EssenceTable::Parse(TableWith("unit\tx\ty\tn\tn\tone\tm\t\tx\t\t\n"))
                            .status()));  // not a number
  BOOST_TEST(IsDataLoss(EssenceTable::Parse(TableWith("unit\tm\ty\tn\tn\t1\tm\t\tx\t\t\n"))
                            .status()));                           // duplicate atom
  BOOST_TEST(IsDataLoss(EssenceTable::Parse("kind\n").status()));  // no bases
  BOOST_TEST(EssenceTable::Parse(TableWith("")).ok());
}

BOOST_AUTO_TEST_CASE(circular_or_unresolvable_definitions_are_rejected) {
  auto circular = UnitSystem::FromTable(
      TableWith("unit\tx\ty\tn\tn\t2\ty\t\tx\t\t\nunit\ty\ty\tn\tn\t3\tx\t\ty\t\t\n"));
  BOOST_TEST(IsDataLoss(circular.status()));
  BOOST_TEST(circular.status().message().find("circular") != std::string::npos);
  auto unknown = UnitSystem::FromTable(TableWith("unit\tx\ty\tn\tn\t2\tq\t\tx\t\t\n"));
  BOOST_TEST(IsDataLoss(unknown.status()));
  auto no_function = UnitSystem::FromTable(TableWith("unit\tx\ty\ty\tn\t1\tK\tnope\tx\t\t\n"));
  BOOST_TEST(IsDataLoss(no_function.status()));
  auto fine = UnitSystem::FromTable(TableWith("unit\tx\ty\tn\tn\t2\tm/s\t\tx\t\t\n"));
  BOOST_REQUIRE(fine.ok());
  Result<double> v = (*fine)->Convert(3, "x", "m/s");
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(*v == 6.0);
  BOOST_TEST(!(*fine)->Validate("kx").ok());  // this table has no prefixes
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace fhirbridge::ucum
