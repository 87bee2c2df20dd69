// Remote SDP as an offer: the path of a WHIP publisher's offer (or a browser that offers) into a
// receiving peer, then create-answer and set-local-description as the addon's answer() does.
#include <cstddef>
#include <cstdint>

#include "addon_sdp_path.h"
#include "webrtc_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InitGstreamerOnce();
  GstSDPMessage* message = fuzz::ParseAsAddonDoes(data, size, nullptr);
  if (!message) return 0;
  fuzz::WebrtcSession session(fuzz::Role::kAnswerer);
  if (session.SetRemote(GST_WEBRTC_SDP_TYPE_OFFER, message).empty()) {
    // Nothing remote follows the local answer here, so no wait for gathering (which a broken offer
    // can keep from ever completing).
    session.CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_ANSWER, false);
  }
  return 0;
}
