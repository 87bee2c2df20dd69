#include "x11/pointer_nudge.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace wrtc {

namespace {
std::atomic<uint64_t> nudges{0};
std::mutex wakers_mutex;
std::vector<int>& Wakers() {
  static auto* fds = new std::vector<int>();  // never destroyed: a source may stop during exit
  return *fds;
}
}  // namespace

void NudgePointer() {
  nudges.fetch_add(1);
  std::lock_guard<std::mutex> lock(wakers_mutex);
  for (int fd : Wakers()) {
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof(one));
    (void)n;
  }
}

uint64_t PointerNudges() { return nudges.load(); }

void AddPointerWaker(int fd) {
  std::lock_guard<std::mutex> lock(wakers_mutex);
  Wakers().push_back(fd);
}

void RemovePointerWaker(int fd) {
  std::lock_guard<std::mutex> lock(wakers_mutex);
  auto& fds = Wakers();
  fds.erase(std::remove(fds.begin(), fds.end(), fd), fds.end());
}

}  // namespace wrtc
