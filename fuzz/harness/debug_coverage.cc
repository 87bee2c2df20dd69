#include "debug_coverage.h"

#include <gst/gst.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_set>

// libFuzzer (Linux) reads every byte in this section as an 8-bit edge counter after each input.
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t g_debug_site_counters[1 << 14];

namespace fuzz {
namespace {

std::mutex g_sites_mutex;
std::unordered_set<uint64_t>* g_sites = new std::unordered_set<uint64_t>();  // never freed: used at exit

// A site is (file, line); the file name is a string literal in the library, so its address is stable.
void CountSite(GstDebugCategory*, GstDebugLevel level, const gchar* file, const gchar*, gint line, GObject*,
               GstDebugMessage*, gpointer) {
  uint64_t site = (reinterpret_cast<uintptr_t>(file) << 16) ^ static_cast<uint64_t>(line) ^
                  (static_cast<uint64_t>(level) << 60);
  uint64_t mixed = site * 0x9E3779B97F4A7C15ull;
  uint8_t& counter = g_debug_site_counters[(mixed >> 40) % sizeof(g_debug_site_counters)];
  if (counter < 255) counter++;
  std::lock_guard<std::mutex> lock(g_sites_mutex);
  g_sites->insert(site);
}

void PrintSites() { std::fprintf(stderr, "#gst-debug-sites: %zu\n", DebugSitesReached()); }

}  // namespace

void StartDebugCoverage() {
  gst_debug_set_active(TRUE);
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(CountSite, nullptr, nullptr);
  // Only the element under test and what it drives; not core GStreamer (state changes, pads), whose
  // sites every input reaches alike.
  gst_debug_set_threshold_from_string(
      "webrtc*:6,dtls*:6,nice*:6,sctp*:6,rtpbin:6,rtpsession:6,rtptransport*:6", TRUE);
  std::atexit(PrintSites);
}

size_t DebugSitesReached() {
  std::lock_guard<std::mutex> lock(g_sites_mutex);
  return g_sites->size();
}

}  // namespace fuzz
