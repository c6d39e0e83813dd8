#include "conformance/bench/proc_cpu.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace fhirbridge::conformance {

namespace {

namespace fs = std::filesystem;

// utime + stime (fields 14 and 15, after the parenthesised name) of a /proc stat file, and the
// name.
double StatCpuSeconds(const fs::path& stat_file, std::string* name) {
  std::ifstream in(stat_file);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t open = stat.find('(');
  const std::size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return 0;
  if (name != nullptr) *name = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The first field of a schedstat file: time on the CPU in nanoseconds; negative when the file
// cannot be read (a kernel without CONFIG_SCHED_INFO).
double SchedstatSeconds(const fs::path& file) {
  std::ifstream in(file);
  long long ns = -1;
  if (!(in >> ns)) return -1;
  return static_cast<double>(ns) / 1e9;
}

long long VoluntarySwitches(const fs::path& status_file) {
  std::ifstream in(status_file);
  constexpr std::string_view kKey = "voluntary_ctxt_switches:";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(kKey, 0) == 0) return std::stoll(line.substr(kKey.size()));
  }
  return 0;
}

// "name figure, name figure" from the largest value down, each value times `scale` printed with
// `format`; names whose value is not above 0 are left out.
std::string LargestFirst(const std::map<std::string, double>& by_name, double scale,
                         const char* format) {
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [name, value] : by_name) {
    if (value > 0) sorted.emplace_back(value, name);
  }
  std::sort(sorted.rbegin(), sorted.rend());
  std::string text;
  char figure[32];
  for (const auto& [value, name] : sorted) {
    std::snprintf(figure, sizeof figure, format, value * scale);
    text.append(text.empty() ? "" : ", ").append(name).append(figure);
  }
  return text;
}

}  // namespace

double ProcessCpuSeconds(int pid) {
  return StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat", nullptr);
}

ThreadCpuSnapshot ThreadCpuOf(int pid) {
  ThreadCpuSnapshot out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    ThreadCpu thread;
    const double ticks = StatCpuSeconds(task.path() / "stat", &thread.name);
    const double precise = SchedstatSeconds(task.path() / "schedstat");
    thread.seconds = precise >= 0 ? precise : ticks;
    thread.waits = VoluntarySwitches(task.path() / "status");
    out[std::stoi(task.path().filename().string())] = std::move(thread);
  }
  return out;
}

std::string CpuByThread(const ThreadCpuSnapshot& before, const ThreadCpuSnapshot& after,
                        double process_seconds, double messages) {
  std::map<std::string, double> by_name;
  double live = 0;
  for (const auto& [tid, thread] : after) {
    auto was = before.find(tid);
    const double used = thread.seconds - (was == before.end() ? 0.0 : was->second.seconds);
    by_name[thread.name] += used;
    live += used;
  }
  // The process figure is rounded to a tick and the threads' are not: a difference of a tick or
  // two is that, not threads that ended.
  const double rounding = 2.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const bool some_ended = std::any_of(before.begin(), before.end(),
                                      [&](const auto& t) { return after.count(t.first) == 0; });
  if (process_seconds > live && (some_ended || process_seconds - live > rounding)) {
    by_name["(ended threads)"] = process_seconds - live;
  }
  return LargestFirst(by_name, 1e6 / messages, " %.1f us");
}

std::string WaitsByThread(const ThreadCpuSnapshot& before, const ThreadCpuSnapshot& after,
                          double messages) {
  std::map<std::string, double> by_name;
  for (const auto& [tid, thread] : after) {
    auto was = before.find(tid);
    by_name[thread.name] +=
        static_cast<double>(thread.waits - (was == before.end() ? 0 : was->second.waits));
  }
  return LargestFirst(by_name, 1 / messages, " %.2f");
}

}  // namespace fhirbridge::conformance
