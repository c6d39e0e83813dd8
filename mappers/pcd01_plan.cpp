#include "mappers/pcd01_plan.h"

#include <cstring>
#include <functional>

#include "mappers/fhir_values.h"

namespace fhirbridge::mappers::pcd01 {

namespace {

// Systolic/diastolic/mean rows of one channel at one time become one panel (MAPPING.md: blood
// pressure; the FHIR `bp` profile requires both systolic and diastolic components).
void PlanBloodPressure(Context& ctx, Group& group, std::vector<Planned>& plans) {
  for (std::size_t i = 0; i < plans.size(); ++i) {
    Planned& p = plans[i];
    if (p.group != &group || p.joined || p.code.vital == nullptr) continue;
    const auto role = p.code.vital->role;
    if (role != VitalSign::Role::kSystolic) continue;
    const Row& sys = p.main();
    const std::uint32_t family = p.code.vital->panel_mdc_code;
    if (family == 0) continue;
    int dia = -1, mean = -1;
    for (std::size_t j = 0; j < plans.size(); ++j) {
      const Planned& q = plans[j];
      if (j == i || q.group != &group || q.joined || q.code.vital == nullptr) continue;
      const Row& other = q.main();
      const bool same_place = other.parent == sys.parent && other.device == sys.device &&
                              other.time && sys.time && other.time->utc_key == sys.time->utc_key;
      if (!same_place) continue;
      if (q.code.vital->panel_mdc_code != family) continue;
      if (q.code.vital->role == VitalSign::Role::kDiastolic && dia < 0) dia = static_cast<int>(j);
      if (q.code.vital->role == VitalSign::Role::kMean && mean < 0) mean = static_cast<int>(j);
    }
    if (dia < 0) continue;  // an incomplete panel: the parts stay single Observations
    p.systolic = p.main_row;
    p.diastolic = plans[dia].main_row;
    p.diastolic_code = plans[dia].code;
    plans[dia].joined = true;
    if (mean >= 0) {
      p.mean = plans[mean].main_row;
      p.mean_code = plans[mean].code;
      plans[mean].joined = true;
    }
    p.panel_code = family;
    p.code.key = ctx.Keep(std::to_string(family));
  }
}

// One Observation per metric row that is delivered (test data is not, by default).
std::vector<Planned> PlanRows(Context& ctx, Model& model) {
  std::vector<Planned> plans;
  std::size_t rows = 0;
  for (const Group& group : model.groups) rows += group.rows.size();
  plans.reserve(rows);
  for (Group& group : model.groups) {
    for (std::size_t r = 0; r < group.rows.size(); ++r) {
      Row& row = group.rows[r];
      if (row.kind != RowKind::kMetric) continue;
      Planned& p = plans.emplace_back();
      p.group = &group;
      p.main_row = static_cast<int>(r);
      p.code = ResolveCode(ctx, row);
      if (!row.time) {
        ctx.Error("required", row.obx.field(14).location(),
                  "no observation time: OBX-14, an ancestor row's OBX-14 and OBR-7 are all empty "
                  "or invalid");
      }
      if (row.has(8)) ReadFlags(ctx, row, /*report=*/true, p.flags);
      if (p.flags.test_data && !ctx.opts.deliver_test_data) {
        ctx.Info("informational", row.obx.field(8).location(),
                 "test/demo data (OBX-8) not delivered (sources[].deliver_test_data)");
        plans.pop_back();
        continue;
      }
      p.facet = row.sub_id.empty() ? row.f(1) : row.sub_id;
    }
  }
  return plans;
}

// The parts of an identity: "<sender>/<device or patient>/<code>/<UTC time>".
struct IdentityParts {
  std::string sender;   // MSH-3 (already an identifier component), encoded once more
  std::string patient;  // "patient-<hash>" for rows without a device identity
};

std::size_t IdentityLength(const IdentityParts& parts, const Model& model, const Planned& p) {
  const Row& row = p.main();
  std::size_t n = parts.sender.size() + 3 + p.code.key.size();
  n += row.device >= 0 ? model.devices[row.device].id.key.size()
                       : (model.patient ? parts.patient.size() : 1);
  n += row.time ? row.time->utc_key.size() : 1;
  return n;
}

// Writes the identity at `at` (IdentityLength bytes) and returns its end.
char* WriteIdentity(char* at, const IdentityParts& parts, const Model& model, const Planned& p) {
  const auto put = [&at](std::string_view text) {
    std::memcpy(at, text.data(), text.size());
    at += text.size();
  };
  const Row& row = p.main();
  put(parts.sender);
  *at++ = '/';
  if (row.device >= 0) {
    put(model.devices[row.device].id.key);
  } else if (model.patient) {
    // No device identity: the patient takes its place, so that two patients' measurements
    // from one sender at one time never share an identifier. A hash: identifiers carry no PHI.
    put(parts.patient);
  } else {
    *at++ = '-';
  }
  *at++ = '/';
  put(p.code.key);
  *at++ = '/';
  if (row.time) {
    put(row.time->utc_key);
  } else {
    *at++ = '-';
  }
  return at;
}

// Identities share long prefixes (sender/device/...): compare hashes before the text, and find
// equal hashes through an open-addressing table (at most half full) rather than pair by pair.
std::vector<bool> Collisions(const std::vector<Planned>& plans, std::vector<std::size_t>& hashes) {
  const std::size_t n = plans.size();
  hashes.resize(n);
  for (std::size_t i = 0; i < n; ++i) hashes[i] = ShortTextHash{}(plans[i].identity);
  std::vector<bool> collides(n, false);
  std::size_t slots = 16;
  while (slots < 2 * n) slots *= 2;
  // 1 + the index of the first plan of each distinct identity; 0 = empty.
  std::vector<std::size_t> first(slots, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t s = hashes[i] & (slots - 1);; s = (s + 1) & (slots - 1)) {
      if (first[s] == 0) {
        first[s] = i + 1;
        break;
      }
      const std::size_t j = first[s] - 1;
      if (hashes[j] == hashes[i] && plans[j].identity == plans[i].identity) {
        collides[i] = collides[j] = true;  // every later equal one meets the first here
        break;
      }
    }
  }
  return collides;
}

// MAPPING.md: the facet joins the identifier when one message repeats a code at one time; what
// still collides reports the same measurement twice.
void SeparateByFacet(Context& ctx, Plans& plans) {
  std::vector<Planned>& items = plans.items;
  std::vector<std::size_t> hashes;
  const std::vector<bool> collides = Collisions(items, hashes);
  bool any = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!collides[i]) continue;
    any = true;
    std::string& extended = plans.with_facet.emplace_front(items[i].identity);
    extended += '/';
    AppendIdentifierComponent(extended, items[i].facet);
    items[i].identity = extended;
    hashes[i] = ShortTextHash{}(items[i].identity);
  }
  if (!any) return;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!collides[i]) continue;
    for (std::size_t j = i + 1; j < items.size(); ++j) {
      if (hashes[j] == hashes[i] && items[j].identity == items[i].identity) {
        ctx.Error("duplicate", items[j].main().obx.field(0).location(),
                  "reports the same code, device, time and OBX-4 as an earlier OBX");
      }
    }
  }
}

}  // namespace

void Plan(Context& ctx, Model& model, Plans& plans) {
  std::vector<Planned>& items = plans.items;
  items = PlanRows(ctx, model);
  for (Group& group : model.groups) PlanBloodPressure(ctx, group, items);
  // Panel parts joined their systolic row: the others close up, in order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].joined) continue;
    if (kept != i) items[kept] = std::move(items[i]);
    ++kept;
  }
  items.erase(items.begin() + static_cast<std::ptrdiff_t>(kept), items.end());

  IdentityParts parts;
  AppendIdentifierComponent(parts.sender, ctx.sender);
  if (model.patient)
    parts.patient =
        "patient-" + HashHex64(model.patient->id.system + "|" + model.patient->id.value);
  std::size_t total = 0;
  for (const Planned& p : plans.items) total += IdentityLength(parts, model, p);
  // Sized once and written in place: the views stay valid.
  plans.identities.resize(total);
  char* at = plans.identities.data();
  for (Planned& p : plans.items) {
    char* const begin = at;
    at = WriteIdentity(at, parts, model, p);
    p.identity = std::string_view(begin, static_cast<std::size_t>(at - begin));
  }
  SeparateByFacet(ctx, plans);
}

}  // namespace fhirbridge::mappers::pcd01
