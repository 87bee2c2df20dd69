// Remote ICE candidates after the remote description, as PeerCore::AddIceCandidate emits them.
// Input: the m-line index in decimal on the first line, the candidate string after it (the corpus
// stays readable; an input without a newline is a candidate for m-line 0).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "webrtc_session.h"

namespace {

// A real answer to the offerer's offer, made once by a second webrtcbin: the offerer's m-lines
// (mids video0, audio1, application2) are the same for every session.
const std::string& Answer() {
  static const std::string answer = [] {
    fuzz::WebrtcSession offerer(fuzz::Role::kOfferer);
    std::string offer = offerer.CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_OFFER);
    fuzz::WebrtcSession answerer(fuzz::Role::kAnswerer);
    GstSDPMessage* message = nullptr;
    gst_sdp_message_new_from_text(offer.c_str(), &message);
    if (!answerer.SetRemote(GST_WEBRTC_SDP_TYPE_OFFER, message).empty()) std::abort();
    std::string text = answerer.CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_ANSWER);
    if (text.empty()) std::abort();
    return text;
  }();
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InitGstreamerOnce();
  const std::string input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  // The addon takes the index as a JS number's Uint32Value: any 32-bit value can arrive.
  uint32_t mline = newline == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoull(input.c_str(), nullptr, 10));
  std::string candidate = newline == std::string::npos ? input : input.substr(newline + 1);

  fuzz::WebrtcSession session(fuzz::Role::kOfferer);
  if (session.CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_OFFER).empty()) __builtin_trap();
  GstSDPMessage* answer = nullptr;
  gst_sdp_message_new_from_text(Answer().c_str(), &answer);
  if (!session.SetRemote(GST_WEBRTC_SDP_TYPE_ANSWER, answer).empty()) __builtin_trap();
  // The string as JS hands it over: a C string, cut at the first NUL.
  session.AddIceCandidate(mline, std::string(candidate.c_str()));
  return 0;
}
