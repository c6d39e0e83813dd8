#pragma once

// Synthetic IHE PCD-01 messages for benchmarks: a monitor's device tree (MDS, VMDs, channels)
// and metric rows cycling through vital signs (NIBP panels included), ECG intervals and
// waveform-free numerics, with per-row times and UCUM/MDC units as real gateways send them.

#include <string>
#include <vector>

namespace fhirbridge::conformance {

/// One ORU^R01 with exactly `obx_count` OBX segments (at least 4), CR-terminated.
/// `seed` varies control ids, patient ids, devices, values and times; the Observations of two
/// seeds that differ by less than 983,040 (65,536 devices, 60 row times) have distinct identifiers.
std::string MakePcd01Message(int obx_count, int seed);

/// `count` messages with OBX counts spread evenly over [min_obx, max_obx].
std::vector<std::string> MakePcd01Corpus(int count, int min_obx, int max_obx);

}  // namespace fhirbridge::conformance
