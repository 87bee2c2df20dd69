#include "addon_sdp_path.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "sdp_guard.h"

namespace fuzz {

namespace {
bool SkipGuard() {
  static const bool skip = [] {
    const char* value = std::getenv("WEBRTCBIN_FUZZ_SKIP_GUARD");
    return value && std::strcmp(value, "1") == 0;
  }();
  return skip;
}
}  // namespace

GstSDPMessage* ParseAsAddonDoes(const uint8_t* data, size_t size) {
  std::string sdp(reinterpret_cast<const char*>(data), size);
  GstSDPMessage* message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK || !message) {
    if (message) gst_sdp_message_free(message);
    return nullptr;
  }
  if (!SkipGuard() && !wrtc::CheckDescription(message, true).empty()) {
    gst_sdp_message_free(message);
    return nullptr;
  }
  return message;
}

}  // namespace fuzz
