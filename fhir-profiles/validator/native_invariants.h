#pragma once

// The most frequent invariants of the R4 base resources and the vital-signs profiles, evaluated
// directly on the JSON instead of through the FHIRPath engine. They are recognised by key AND
// exact expression text, so a profile that reuses a key with another expression still goes to
// FHIRPath. Each native answer equals what FHIRPath gives on the same node (native_invariants
// _test.cpp compares both on many shapes); where a node has a shape the native code does not
// model (primitive extensions such as "_code", a value that is not the expected JSON kind), it
// answers nothing and FHIRPath decides.
//
// Measured on a 30-OBX device Bundle (21 entries): invariants were a third of the validation time,
// and bdl-7, bdl-8, qty-3, obs-3/6/7, bdl-3/4/5, dom-6 and vs-1/2/3 most of that.

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace fhirbridge::validator {

enum class NativeInvariant : std::uint8_t {
  kNone,
  kBdl1,         ///< total only in a searchset or history
  kBdl2,         ///< entry.search only in a searchset
  kBdl3,         ///< entry.request iff batch/transaction/history
  kBdl4,         ///< entry.response iff batch-response/transaction-response/history
  kBdl5,         ///< an entry has a resource, request or response
  kBdl7,         ///< fullUrl (+ versionId) unique unless history
  kBdl8,         ///< fullUrl is not version specific
  kBdlDocument,  ///< bdl-9, bdl-10, bdl-11: "type = 'document' implies ..."
  kBdlMessage,   ///< bdl-12: "type = 'message' implies ..."

  kDom6,  ///< a narrative (best practice, warning)
  kObs3,  ///< referenceRange has low, high or text
  kObs6,  ///< dataAbsentReason only without a value
  kObs7,  ///< value and a component with the same code: not both
  kQty3,  ///< a Quantity with a code has a system
  kVs1,   ///< effectiveDateTime precise to the day at least
  kVs2,   ///< a value or a dataAbsentReason, unless components or members
  kVs3,   ///< a component has a value or a dataAbsentReason
};

/// The native form of the invariant with this key and expression, kNone when there is none.
NativeInvariant FindNativeInvariant(std::string_view key, std::string_view expression);

/// Evaluates `which` on `node` (the element the invariant is declared on) of type `node_type`
/// inside `resource` (%resource); nullopt when FHIRPath must decide.
std::optional<bool> EvaluateNative(NativeInvariant which, const rapidjson::Value& node,
                                   std::string_view node_type, const rapidjson::Value& resource);

}  // namespace fhirbridge::validator
