// What a wait and an fdatasync cost a thread on this machine. fhirbridge's CPU per message is
// made of its own work plus the waits of its threads (a connection waits for its commit, the
// syncer for the disk, the delivery thread for the server's answer) and the WAL's fdatasyncs.
// On a bare-metal host a wait costs a few microseconds; on a virtual machine whose idle CPUs
// halt, waking a thread on a halted CPU costs far more, and it is charged to the thread woken.
// These figures tell which case a machine is in (docs/development.md, "Benchmarks").
//
//   fhirbridge_host_costs_bench [--dir DIR] [--rounds N]
//
// Prints, per round trip or per call, CPU µs of the thread and its voluntary context switches:
//   - ping-pong between two threads, the answer sent at once, after 0.5 ms and after 3 ms (the
//     test FHIR server takes about 4 ms per Bundle);
//   - the same with both threads on one CPU (no CPU is idle while one of them waits);
//   - pwrite of 8 KB + fdatasync on a file in DIR (the WAL's case), default the current folder.
// Figures are printed, not asserted.

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

double ThreadCpuUs() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

long ThreadWaits() {
  rusage r{};
  ::getrusage(RUSAGE_THREAD, &r);
  return r.ru_nvcsw;
}

// The CPUs this process may run on, as it started.
cpu_set_t AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  ::sched_getaffinity(0, sizeof set, &set);
  return set;
}

// Pins the calling thread to the first CPU it may run on.
void PinToOneCpu(const cpu_set_t& allowed) {
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
    return;
  }
}

// The waiting side: writes a byte to the peer and blocks in read() until the answer; the peer
// answers `gap` after it got the byte (busy, so that it does not wait itself).
void PingPong(int rounds, std::chrono::microseconds gap, bool one_cpu) {
  int to_peer[2];
  int to_me[2];
  if (::pipe(to_peer) != 0 || ::pipe(to_me) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  const cpu_set_t allowed = AllowedCpus();
  std::thread peer([&] {
    if (one_cpu) PinToOneCpu(allowed);
    char byte = 0;
    for (int i = 0; i < rounds; ++i) {
      if (::read(to_peer[0], &byte, 1) != 1) return;
      const auto until = Clock::now() + gap;
      while (Clock::now() < until) {
      }
      if (::write(to_me[1], &byte, 1) != 1) return;
    }
  });
  if (one_cpu) PinToOneCpu(allowed);
  const double cpu0 = ThreadCpuUs();
  const long waits0 = ThreadWaits();
  char byte = 'x';
  for (int i = 0; i < rounds; ++i) {
    if (::write(to_peer[1], &byte, 1) != 1 || ::read(to_me[0], &byte, 1) != 1) break;
  }
  const double cpu = ThreadCpuUs() - cpu0;
  const long waits = ThreadWaits() - waits0;
  peer.join();
  for (int fd : {to_peer[0], to_peer[1], to_me[0], to_me[1]}) ::close(fd);
  if (one_cpu) ::pthread_setaffinity_np(::pthread_self(), sizeof allowed, &allowed);
  std::printf("wait for an answer after %5.1f ms%s: %6.1f us CPU, %.2f waits per round trip\n",
              static_cast<double>(gap.count()) / 1000.0, one_cpu ? " (one CPU)" : "          ",
              cpu / rounds, static_cast<double>(waits) / rounds);
}

void Fdatasync(const std::string& dir, int rounds) {
  const std::string path = dir + "/fhirbridge-host-costs-" + std::to_string(::getpid());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(1);
  }
  constexpr std::size_t kFile = 4 << 20;
  constexpr std::size_t kWrite = 8192;
  const std::string zeros(kFile, '\0');
  const std::string page(kWrite, 'x');
  bool ok = ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(kFile) &&
            ::fsync(fd) == 0;  // written out once, as the store's WAL is (store.wal_size_mb)
  const double cpu0 = ThreadCpuUs();
  const long waits0 = ThreadWaits();
  const auto start = Clock::now();
  for (int i = 0; ok && i < rounds; ++i) {
    const auto at = static_cast<off_t>((static_cast<std::size_t>(i) * kWrite) % kFile);
    ok = ::pwrite(fd, page.data(), kWrite, at) == static_cast<ssize_t>(kWrite) &&
         ::fdatasync(fd) == 0;
  }
  const double wall = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  const double cpu = ThreadCpuUs() - cpu0;
  const long waits = ThreadWaits() - waits0;
  ::close(fd);
  ::unlink(path.c_str());
  if (!ok) {
    std::fprintf(stderr, "write or fdatasync failed in %s: %s\n", dir.c_str(),
                 std::strerror(errno));
    std::exit(1);
  }
  std::printf("pwrite 8 KB + fdatasync in %s: %6.1f us CPU, %.2f waits, %.1f us wall per call\n",
              dir.c_str(), cpu / rounds, static_cast<double>(waits) / rounds, wall / rounds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".";
  int rounds = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fhirbridge_host_costs_bench [--dir DIR] [--rounds N]\n");
      return 2;
    }
  }
  if (rounds < 1) rounds = 1;
  using std::chrono::microseconds;
  PingPong(rounds, microseconds(0), false);
  PingPong(rounds / 4 + 1, microseconds(500), false);
  PingPong(rounds / 10 + 1, microseconds(3000), false);
  PingPong(rounds, microseconds(0), true);
  Fdatasync(dir, rounds / 4 + 1);
  return 0;
}
