// A webrtcbin set up the way the addon sets up a sending peer (src-native/peer/peer_core.cc): a sendonly
// video stream linked through a request pad, a recvonly audio transceiver, a data channel. Each call
// waits for webrtcbin's promise reply, so when it returns the operation is over.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <string>

namespace fuzz {

// gst_init, debug coverage, and a check that webrtcbin is installed (exits with a message if not).
void InitGstreamerOnce();

enum class Role { kOfferer, kAnswerer };

class WebrtcSession {
 public:
  // An offerer sends video and receives audio; an answerer has only recvonly transceivers (what a
  // WHIP ingest or a viewer peer has) and gets its m-lines from the remote offer.
  explicit WebrtcSession(Role role);
  ~WebrtcSession();
  WebrtcSession(const WebrtcSession&) = delete;
  WebrtcSession& operator=(const WebrtcSession&) = delete;

  // create-offer / create-answer, then set-local-description with it, then (if `wait_for_gathering`)
  // waits up to 5 s for ICE gathering to complete. Returns the SDP text, "" on error.
  std::string CreateAndSetLocal(GstWebRTCSDPType type, bool wait_for_gathering = true);
  // set-remote-description; takes ownership of `message`. Returns "" on success, else webrtcbin's error.
  std::string SetRemote(GstWebRTCSDPType type, GstSDPMessage* message);
  // add-ice-candidate as PeerCore::AddIceCandidate emits it, then waits until webrtcbin's task queue
  // has run it (a get-stats promise is queued behind it).
  void AddIceCandidate(unsigned mline, const std::string& candidate);

  // True while the session has its local offer and nothing of a remote description: what a
  // set-remote-description refused by webrtcbin's validation leaves, so the session can take the next
  // answer as if new. (A description refused after validation stays pending-remote-description.)
  bool AwaitsAnswer() const;

  GstElement* webrtc() const { return webrtc_; }

 private:
  GstStructure* Wait(const char* signal, gpointer argument);
  void WaitForGathering();
  GstElement* pipeline_ = nullptr;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
};

}  // namespace fuzz
