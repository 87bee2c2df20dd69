// Remote SDP as the answer to our offer: the path of a viewer's answer (WebSocket / WHEP) into a
// sending peer. Making a webrtcbin and its offer costs ~20 ms, so a session whose last answer was
// refused by validation (nothing of it kept) takes the next input; any other outcome discards it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "addon_sdp_path.h"
#include "webrtc_session.h"

// WEBRTCBIN_FUZZ_PRINT_OFFER=1: print the offer every input is answered against and exit (the corpus
// script has browsers answer it, so that seeds match its m-lines and mids).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::getenv("WEBRTCBIN_FUZZ_PRINT_OFFER")) return 0;
  fuzz::InitGstreamerOnce();
  std::string offer = fuzz::WebrtcSession(fuzz::Role::kOfferer).CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_OFFER);
  std::fputs(offer.c_str(), stdout);
  std::exit(offer.empty() ? 1 : 0);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InitGstreamerOnce();
  static std::unique_ptr<fuzz::WebrtcSession> session;
  if (!session) {
    session = std::make_unique<fuzz::WebrtcSession>(fuzz::Role::kOfferer);
    if (session->CreateAndSetLocal(GST_WEBRTC_SDP_TYPE_OFFER).empty()) __builtin_trap();  // harness broken
  }
  GstSDPMessage* message = fuzz::ParseAsAddonDoes(data, size, session->webrtc());
  if (!message) return 0;
  bool refused = !session->SetRemote(GST_WEBRTC_SDP_TYPE_ANSWER, message).empty();
  if (!refused || !session->AwaitsAnswer()) session.reset();
  return 0;
}
