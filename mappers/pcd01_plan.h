#pragma once

// Between reading a PCD-01 message and writing it: which metric rows become which Observation
// (three rows of one blood-pressure channel become one panel), with what code, OBX-8 flags and
// deterministic identifier (MAPPING.md "identifier").

#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>
#include <vector>

#include "mappers/pcd01_model.h"
#include "mappers/pcd01_values.h"

namespace fhirbridge::mappers::pcd01 {

/// One Observation to write.
struct Planned {
  Planned() {}  // user-provided: emplace_back() sets the members below, without zeroing first

  Group* group = nullptr;
  int main_row = -1;
  int systolic = -1, diastolic = -1, mean = -1;  ///< BP panel parts (row indices)
  CodeInfo code;
  CodeInfo diastolic_code, mean_code;  ///< resolved while planning
  std::uint32_t panel_code = 0;        ///< MDC code of the BP compound, when a panel
  /// The identifier value (sender/device/code/UTC time[/facet]); views Plans' storage.
  std::string_view identity;
  std::string_view facet;  ///< OBX-4 (or OBX-1) as sent: joins the identity when two collide
  Flags flags;             ///< OBX-8 of the main row
  bool joined = false;     ///< a part of a BP panel planned by its systolic row (while planning)

  const Row& main() const { return group->rows[main_row]; }
};

/// The Observations of a message, in the order they are written. Not copied nor moved: the
/// identities view its storage.
struct Plans {
  Plans() = default;
  Plans(const Plans&) = delete;
  Plans& operator=(const Plans&) = delete;

  std::vector<Planned> items;
  /// Storage of the identities: reserved before the first is written, so views never move.
  std::string identities;
  /// Identities extended by their facet (collisions). A list: it allocates nothing while
  /// empty, as it is for most messages.
  std::forward_list<std::string> with_facet;
};

/// Plans the Observations of `model` into `plans` (empty). Problems (no time, duplicates, ...)
/// go to ctx.issues.
void Plan(Context& ctx, Model& model, Plans& plans);

}  // namespace fhirbridge::mappers::pcd01
