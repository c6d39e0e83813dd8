#include "engine/service/route_rules.h"

#include <algorithm>

namespace fhirbridge::service {

namespace {

// "system|value" matches exactly; a bare value matches the part after the last '|'.
bool SystemValueMatches(std::string_view wanted, std::string_view actual) {
  if (wanted.find('|') != std::string_view::npos) return wanted == actual;
  const std::size_t bar = actual.rfind('|');
  return (bar == std::string_view::npos ? actual : actual.substr(bar + 1)) == wanted;
}

bool AnySystemValue(const std::vector<std::string>& wanted,
                    const std::vector<std::string>& actual) {
  for (const std::string& w : wanted) {
    for (const std::string& a : actual) {
      if (SystemValueMatches(w, a)) return true;
    }
  }
  return false;
}

bool MessageTypeMatches(std::string_view wanted, std::string_view actual) {
  if (wanted == actual) return true;
  // "ORU" names the message type alone: any trigger event of it.
  return wanted.find('^') == std::string_view::npos && actual.size() > wanted.size() &&
         actual.substr(0, wanted.size()) == wanted && actual[wanted.size()] == '^';
}

bool LocationMatches(std::string_view wanted, std::string_view actual) {
  if (actual.size() < wanted.size() || actual.substr(0, wanted.size()) != wanted) return false;
  return actual.size() == wanted.size() || actual[wanted.size()] == '^';
}

template <typename Match>
bool AnyOf(const std::vector<std::string>& wanted, std::string_view actual, Match match) {
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return match(w, actual); });
}

}  // namespace

bool RouteCondition::Matches(const RouteFacts& facts) const {
  if (!message_types.empty() && !AnyOf(message_types, facts.message_type, MessageTypeMatches)) {
    return false;
  }
  if (!codes.empty() && !AnySystemValue(codes, facts.codes)) return false;
  if (!locations.empty() && !AnyOf(locations, facts.location, LocationMatches)) return false;
  if (!devices.empty() && !AnySystemValue(devices, facts.devices)) return false;
  return true;
}

std::vector<std::string> SelectDestinations(const std::vector<RouteTarget>& targets,
                                            const RouteFacts& facts) {
  std::vector<std::string> out;
  for (const RouteTarget& target : targets) {
    if (std::find(out.begin(), out.end(), target.destination) != out.end()) continue;
    if (target.when.Matches(facts)) out.push_back(target.destination);
  }
  return out;
}

}  // namespace fhirbridge::service
