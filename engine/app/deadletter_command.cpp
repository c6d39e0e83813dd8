// fhirbridge deadletter list|show|reprocess|discard --config FILE ...: the dead-letter queue
// from the command line, on the store the configuration names (the service may be running: the
// store is SQLite in WAL mode, and a running service picks reprocessed messages up by itself).

#include <iostream>
#include <optional>

#include "engine/app/commands.h"
#include "engine/app/registry.h"
#include "engine/service/dead_letter_view.h"
#include "engine/service/service.h"

namespace fhirbridge::app {

namespace {

constexpr const char* kUsage =
    "usage: fhirbridge deadletter list --config FILE [--status open|reprocessed|discarded|all]\n"
    "                                  [--before ID] [--limit N] [--json]\n"
    "       fhirbridge deadletter show --config FILE ID...\n"
    "       fhirbridge deadletter reprocess --config FILE (ID... | --all [--destination NAME])\n"
    "       fhirbridge deadletter discard --config FILE ID...\n";

struct Options {
  std::string action;
  std::string config;
  std::string status = "open";
  std::int64_t before = 0;
  std::int64_t limit = 100;
  bool json = false;
  bool all = false;
  std::string destination;
  std::vector<std::int64_t> ids;
};

std::optional<std::int64_t> ParsePositive(const std::string& text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n == 0) return std::nullopt;
  return n;
}

// Returns "" or the problem.
std::string Parse(const std::vector<std::string>& args, Options& o) {
  if (args.empty()) return "missing action";
  o.action = args[0];
  if (o.action != "list" && o.action != "show" && o.action != "reprocess" &&
      o.action != "discard") {
    return "unknown action '" + o.action + "'";
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--config" && has_value) {
      o.config = args[++i];
    } else if (a == "--status" && has_value && o.action == "list") {
      o.status = args[++i] == "all" ? "" : args[i];
    } else if ((a == "--before" || a == "--limit") && has_value && o.action == "list") {
      const std::optional<std::int64_t> n = ParsePositive(args[++i]);
      if (!n || (a == "--limit" && *n > 100000)) return a + " " + args[i] + ": expected a number";
      (a == "--before" ? o.before : o.limit) = *n;
    } else if (a == "--json" && o.action == "list") {
      o.json = true;
    } else if (a == "--all" && o.action == "reprocess") {
      o.all = true;
    } else if (a == "--destination" && has_value && o.action == "reprocess") {
      o.destination = args[++i];
    } else if (const std::optional<std::int64_t> id = ParsePositive(a); id && o.action != "list") {
      o.ids.push_back(*id);
    } else {
      return "unexpected argument '" + a + "'";
    }
  }
  if (o.config.empty()) return "--config FILE is required";
  if (o.action != "list" && o.ids.empty() && !o.all) return "name at least one dead-letter ID";
  if (o.all && !o.ids.empty()) return "give IDs or --all, not both";
  if (!o.destination.empty() && !o.all) return "--destination goes with --all";
  return "";
}

// Reading the queue is audited like changing it (issue 5: who read what, from where).
Status AuditRead(MessageStore& store, const std::string& target) {
  AuditRecord record;
  record.at_us = service::NowMicros();
  record.event = "deadletter.read";
  record.actor = CliActor();
  record.detail = "{\"target\":\"" + target + "\"}";
  return store.RecordAudit(std::move(record));
}

int List(MessageStore& store, const Options& o, std::ostream& out, std::ostream& err) {
  if (Status audited = AuditRead(store, "list"); !audited.ok()) {
    err << "deadletter list: cannot write the audit record: " << audited.message() << "\n";
    return 1;
  }
  Result<std::vector<DeadLetterSummary>> letters =
      store.ListDeadLetters(o.status, o.before, static_cast<std::size_t>(o.limit));
  if (!letters.ok()) {
    err << "deadletter list: " << letters.status().message() << "\n";
    return 1;
  }
  if (o.json) {
    for (const DeadLetterSummary& d : *letters) out << service::DeadLetterJson(d) << "\n";
  } else {
    out << service::DeadLettersTable(*letters);
  }
  return 0;
}

int Show(MessageStore& store, const Options& o, std::ostream& out, std::ostream& err) {
  int exit = 0;
  for (std::int64_t id : o.ids) {
    if (Status audited = AuditRead(store, std::to_string(id)); !audited.ok()) {
      err << "deadletter show: cannot write the audit record: " << audited.message() << "\n";
      return 1;
    }
    Result<DeadLetterDetail> detail = store.GetDeadLetter(id);
    if (!detail.ok()) {
      err << "deadletter show " << id << ": " << detail.status().message() << "\n";
      exit = 1;
      continue;
    }
    out << service::DeadLetterJson(detail->summary, &detail->outcome) << "\n";
  }
  return exit;
}

// Every open dead letter (of one destination, when given), oldest first.
Result<std::vector<std::int64_t>> OpenIds(MessageStore& store, const std::string& destination) {
  std::vector<std::int64_t> ids;
  std::int64_t before = 0;
  for (;;) {
    Result<std::vector<DeadLetterSummary>> page = store.ListDeadLetters("open", before, 1000);
    if (!page.ok()) return page.status();
    for (const DeadLetterSummary& d : *page) {
      if (destination.empty() || d.destination == destination) ids.push_back(d.id);
    }
    if (page->size() < 1000) break;
    before = page->back().id;
  }
  return std::vector<std::int64_t>(ids.rbegin(), ids.rend());
}

int Resolve(MessageStore& store, const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<std::int64_t> ids = o.ids;
  if (o.all) {
    Result<std::vector<std::int64_t>> open = OpenIds(store, o.destination);
    if (!open.ok()) {
      err << "deadletter " << o.action << ": " << open.status().message() << "\n";
      return 1;
    }
    ids = std::move(open).value();
  }
  const std::string actor = CliActor();
  int exit = 0;
  std::size_t done = 0;
  for (std::int64_t id : ids) {
    const std::int64_t now = service::NowMicros();
    const Status status = o.action == "reprocess" ? store.ReprocessDeadLetter(id, now, actor)
                                                  : store.DiscardDeadLetter(id, now, actor);
    if (!status.ok()) {
      err << "deadletter " << o.action << " " << id << ": " << status.message() << "\n";
      exit = 1;
      continue;
    }
    ++done;
  }
  out << (o.action == "reprocess" ? "reprocessed " : "discarded ") << done << " of " << ids.size()
      << " dead letter" << (ids.size() == 1 ? "" : "s")
      << (o.action == "reprocess" ? "; a running service maps and delivers them again\n" : "\n");
  return exit;
}

}  // namespace

int RunDeadLetter(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options o;
  if (const std::string problem = Parse(args, o); !problem.empty()) {
    err << "deadletter: " << problem << "\n" << kUsage;
    return 2;
  }
  Result<std::unique_ptr<store::SqliteStore>> store = OpenStoreOfConfigFile(o.config);
  if (!store.ok()) {
    err << "deadletter: " << store.status().message() << "\n";
    return 1;
  }
  MessageStore& s = **store;
  if (o.action == "list") return List(s, o, out, err);
  if (o.action == "show") return Show(s, o, out, err);
  return Resolve(s, o, out, err);
}

}  // namespace fhirbridge::app
