#include "webrtc_session.h"

#include "peer/ice_agent.h"

#include <cstdio>
#include <cstdlib>

#include "debug_coverage.h"

namespace fuzz {

void InitGstreamerOnce() {
  static bool done = false;
  if (done) return;
  done = true;
  gst_init(nullptr, nullptr);
  GstElementFactory* factory = gst_element_factory_find("webrtcbin");
  if (!factory) {
    std::fprintf(stderr, "webrtcbin is not installed (gstreamer1.0-plugins-bad, gstreamer1.0-nice)\n");
    std::exit(2);
  }
  gst_object_unref(factory);
  StartDebugCoverage();
}

namespace {

// What the addon's default video send stream offers (VP8, NACK on).
constexpr const char* kVideoCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000";
constexpr const char* kAudioCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,encoding-params=(string)2";

GstWebRTCRTPTransceiver* AddRecvonly(GstElement* webrtc, const char* caps_text) {
  GstCaps* caps = gst_caps_from_string(caps_text);
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                        &transceiver);
  gst_caps_unref(caps);
  return transceiver;
}


}  // namespace

WebrtcSession::WebrtcSession(Role role) {
  pipeline_ = gst_pipeline_new(nullptr);
  webrtc_ = gst_element_factory_make("webrtcbin", nullptr);
  gst_util_set_object_arg(G_OBJECT(webrtc_), "bundle-policy", "max-bundle");
  wrtc::ConfigureIceAgent(webrtc_);  // as PeerCore::Build does
  gst_bin_add(GST_BIN(pipeline_), webrtc_);
  gst_element_set_state(pipeline_, GST_STATE_READY);

  if (role == Role::kOfferer) {
    // A source that never pushes: its caps answer webrtcbin's query, no encoder runs.
    GstElement* source = gst_element_factory_make("appsrc", nullptr);
    GstCaps* caps = gst_caps_from_string(kVideoCaps);
    g_object_set(source, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME, nullptr);
    gst_bin_add(GST_BIN(pipeline_), source);
    GstPad* sink = gst_element_request_pad_simple(webrtc_, "sink_%u");
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(sink, "transceiver", &transceiver, nullptr);
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
                 caps, "do-nack", TRUE, nullptr);
    gst_object_unref(transceiver);
    GstPad* src = gst_element_get_static_pad(source, "src");
    gst_pad_link(src, sink);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_caps_unref(caps);
    gst_object_unref(AddRecvonly(webrtc_, kAudioCaps));
  } else {
    gst_object_unref(AddRecvonly(webrtc_, kVideoCaps));
    gst_object_unref(AddRecvonly(webrtc_, kAudioCaps));
  }
  gst_element_set_state(pipeline_, GST_STATE_PLAYING);
  if (role == Role::kOfferer) {
    GstWebRTCDataChannel* channel = nullptr;
    g_signal_emit_by_name(webrtc_, "create-data-channel", "input", nullptr, &channel);
    if (channel) g_object_unref(channel);
  }
}

WebrtcSession::~WebrtcSession() {
  gst_element_set_state(pipeline_, GST_STATE_NULL);
  gst_object_unref(pipeline_);
}

GstStructure* WebrtcSession::Wait(const char* signal, gpointer argument) {
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc_, signal, argument, promise);
  GstStructure* reply = nullptr;
  if (gst_promise_wait(promise) == GST_PROMISE_RESULT_REPLIED) {
    // webrtcbin replies with no structure when a description was set.
    const GstStructure* got = gst_promise_get_reply(promise);
    reply = got ? gst_structure_copy(got) : gst_structure_new_empty("replied");
  }
  gst_promise_unref(promise);
  return reply;
}

namespace {

std::string ErrorOf(const GstStructure* reply) {
  if (!reply) return "no reply";
  GError* error = nullptr;
  if (gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    std::string text = error && error->message ? error->message : "error";
    if (error) g_error_free(error);
    return text.empty() ? "error" : text;
  }
  return "";
}

}  // namespace

std::string WebrtcSession::CreateAndSetLocal(GstWebRTCSDPType type, bool wait_for_gathering) {
  const char* field = type == GST_WEBRTC_SDP_TYPE_OFFER ? "offer" : "answer";
  GstStructure* reply = Wait(type == GST_WEBRTC_SDP_TYPE_OFFER ? "create-offer" : "create-answer", nullptr);
  GstWebRTCSessionDescription* description = nullptr;
  if (reply) gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, nullptr);
  if (reply) gst_structure_free(reply);
  if (!description) return "";
  gchar* text = gst_sdp_message_as_text(description->sdp);
  std::string sdp = text;
  g_free(text);
  reply = Wait("set-local-description", description);
  gst_webrtc_session_description_free(description);
  std::string error = ErrorOf(reply);
  if (reply) gst_structure_free(reply);
  if (!error.empty()) return "";
  if (wait_for_gathering) WaitForGathering();
  return sdp;
}

// webrtcnice 1.22 walks a stream's transport list from libnice's thread when gathering ends, with no
// lock against webrtcbin's thread changing that list while it applies a remote description: a remote
// description applied in that window can crash it (SIGSEGV in the gathering-done handler; the fuzzer
// hit it within a minute, see docs/reliability.md). That race is about timing, not about the input;
// this waits it out before a remote description follows, so that what the fuzzer finds is about the
// input.
void WebrtcSession::WaitForGathering() {
  for (int waited_ms = 0; waited_ms < 5000; waited_ms++) {
    GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
    g_usleep(1000);
  }
}

std::string WebrtcSession::SetRemote(GstWebRTCSDPType type, GstSDPMessage* message) {
  GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(type, message);
  GstStructure* reply = Wait("set-remote-description", description);
  gst_webrtc_session_description_free(description);
  std::string error = ErrorOf(reply);
  if (reply) gst_structure_free(reply);
  return error;
}

bool WebrtcSession::AwaitsAnswer() const {
  GstWebRTCSignalingState state = GST_WEBRTC_SIGNALING_STATE_CLOSED;
  GstWebRTCSessionDescription* pending = nullptr;
  GstWebRTCSessionDescription* current = nullptr;
  g_object_get(webrtc_, "signaling-state", &state, "pending-remote-description", &pending,
               "current-remote-description", &current, nullptr);
  bool untouched = state == GST_WEBRTC_SIGNALING_STATE_HAVE_LOCAL_OFFER && !pending && !current;
  if (pending) gst_webrtc_session_description_free(pending);
  if (current) gst_webrtc_session_description_free(current);
  return untouched;
}

void WebrtcSession::AddIceCandidate(unsigned mline, const std::string& candidate) {
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.empty() ? nullptr : candidate.c_str());
  GstStructure* reply = Wait("get-stats", nullptr);
  if (reply) gst_structure_free(reply);
}

}  // namespace fuzz
