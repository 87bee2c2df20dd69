#include "addon_sdp_path.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "peer/sdp_guard.h"

namespace fuzz {

namespace {
bool Skip(const char* check) {
  const char* value = std::getenv("WEBRTCBIN_FUZZ_SKIP_GUARD");
  return value && ("," + std::string(value) + ",").find("," + std::string(check) + ",") != std::string::npos;
}
}  // namespace

GstSDPMessage* ParseAsAddonDoes(const uint8_t* data, size_t size, GstElement* answered) {
  static const bool skip_description = Skip("description");
  static const bool skip_answer = Skip("answer");
  std::string sdp(reinterpret_cast<const char*>(data), size);
  GstSDPMessage* message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK || !message) {
    if (message) gst_sdp_message_free(message);
    return nullptr;
  }
  std::string violation = skip_description ? "" : wrtc::CheckDescription(message, true);
  if (violation.empty() && answered && !skip_answer) violation = wrtc::CheckRemoteAnswer(message, answered);
  if (!violation.empty()) {
    gst_sdp_message_free(message);
    return nullptr;
  }
  // What PeerCore::SetDescription leaves out of every remote description.
  wrtc::DropMdnsCandidates(message);
  wrtc::DropUnknownAttributes(message);
  return message;
}

}  // namespace fuzz
