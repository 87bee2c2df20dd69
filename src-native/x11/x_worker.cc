#include "x11/x_worker.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace wrtc {

XWorker::~XWorker() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool XWorker::OpenWake(const char* what, std::string* error) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ >= 0) return true;
  *error = std::string("eventfd failed for the ") + what + " thread";
  return false;
}

void XWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void XWorker::Stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = true;
  Wake();
}

void XWorker::Join() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void XWorker::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
}

bool XWorker::Stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

bool XWorker::Sleep(xcb_connection_t* c, int timeout_ms) {
  xcb_flush(c);
  pollfd fds[2] = {{xcb_get_file_descriptor(c), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) return false;
  if (fds[1].revents & POLLIN) {
    uint64_t count;
    (void)!read(wake_fd_, &count, sizeof count);
  }
  return true;
}

}  // namespace wrtc
