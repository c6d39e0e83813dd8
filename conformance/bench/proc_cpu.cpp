#include "conformance/bench/proc_cpu.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
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

}  // namespace

double ProcessCpuSeconds(int pid) {
  return StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat", nullptr);
}

ThreadCpuSnapshot ThreadCpuOf(int pid) {
  ThreadCpuSnapshot out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    ThreadCpu thread;
    thread.seconds = StatCpuSeconds(task.path() / "stat", &thread.name);
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
  if (process_seconds > live) by_name["(ended threads)"] = process_seconds - live;
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [name, seconds] : by_name) {
    if (seconds > 0) sorted.emplace_back(seconds, name);
  }
  std::sort(sorted.rbegin(), sorted.rend());
  std::string text;
  char figure[32];
  for (const auto& [seconds, name] : sorted) {
    std::snprintf(figure, sizeof figure, " %.1f us", seconds / messages * 1e6);
    text.append(text.empty() ? "" : ", ").append(name).append(figure);
  }
  return text;
}

}  // namespace fhirbridge::conformance
