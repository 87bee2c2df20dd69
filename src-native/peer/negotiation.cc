// Negotiation: offers, answers, descriptions, candidates and stats, each settled through the
// GstPromise bridge (a reply event carrying the request id), and the signals that start it.
#include "peer/peer_core.h"

#include <gst/sdp/sdp.h>

#include <cstring>

#include "common/gst_json.h"
#include "peer/sdp_guard.h"
#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

GstPromise* PeerCore::NewPromise(uint64_t id, const char* field) {
  return gst_promise_new_with_change_func(PromiseCb, new PromiseData{weak_from_this(), id, field},
                                          FreePromiseData);
}

// webrtcbin takes its own reference on a promise it queues; ours is dropped right after the call.
void PeerCore::EmitWithPromise(const char* signal, gpointer argument, uint64_t id, const char* field) {
  MiniObjectPtr<GstPromise> promise(NewPromise(id, field));
  g_signal_emit_by_name(webrtc_, signal, argument, promise.get());
}

void PeerCore::CreateOffer(uint64_t id) { EmitWithPromise("create-offer", nullptr, id, "offer"); }

void PeerCore::CreateAnswer(uint64_t id) { EmitWithPromise("create-answer", nullptr, id, "answer"); }

bool PeerCore::SetDescription(bool local, const std::string& type, const std::string& sdp, uint64_t id,
                              NativeError* error) {
  GstWebRTCSDPType sdp_type;
  if (type == "offer") sdp_type = GST_WEBRTC_SDP_TYPE_OFFER;
  else if (type == "answer") sdp_type = GST_WEBRTC_SDP_TYPE_ANSWER;
  else if (type == "pranswer") sdp_type = GST_WEBRTC_SDP_TYPE_PRANSWER;
  else if (type == "rollback") sdp_type = GST_WEBRTC_SDP_TYPE_ROLLBACK;
  else {
    *error = {"ERR_INVALID_SDP", "unknown description type '" + type + "'", ""};
    return false;
  }
  GstSDPMessage* message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK || !message) {
    if (message) gst_sdp_message_free(message);
    *error = {"ERR_INVALID_SDP", "the SDP could not be parsed", ""};
    return false;
  }
  std::string violation = CheckDescription(message, !local);
  if (violation.empty() && !local && sdp_type == GST_WEBRTC_SDP_TYPE_OFFER) {
    GstWebRTCSessionDescription* ours = nullptr;
    g_object_get(webrtc_, "local-description", &ours, nullptr);
    if (ours) {
      violation = CheckRenegotiation(ours->sdp, message);
      gst_webrtc_session_description_free(ours);
    }
  }
  if (violation.empty() && !local && (sdp_type == GST_WEBRTC_SDP_TYPE_ANSWER || sdp_type == GST_WEBRTC_SDP_TYPE_PRANSWER)) {
    violation = CheckRemoteAnswer(message, webrtc_);
  }
  if (!violation.empty()) {
    gst_sdp_message_free(message);
    *error = {"ERR_INVALID_SDP", "malformed SDP (" + violation + ")", ""};
    return false;
  }
  if (!local) {
    DropMdnsCandidates(message);
    DropUnknownAttributes(message);
  }
  GstWebRTCSessionDescription* description = gst_webrtc_session_description_new(sdp_type, message);
  EmitWithPromise(local ? "set-local-description" : "set-remote-description", description, id, nullptr);
  gst_webrtc_session_description_free(description);
  return true;
}

bool PeerCore::AddIceCandidate(uint32_t mline, const std::string& candidate, NativeError* error) {
  // webrtcbin 1.22 keeps a candidate for an m-line it has no ICE stream for until the next description
  // (pending_remote_ice_candidates, unbounded): one for an m-line the remote description lacks is refused.
  GstWebRTCSessionDescription* remote = nullptr;
  g_object_get(webrtc_, "remote-description", &remote, nullptr);
  if (remote) {
    guint medias = gst_sdp_message_medias_len(remote->sdp);
    gst_webrtc_session_description_free(remote);
    if (mline >= medias) {
      *error = {"ERR_INVALID_SDP",
                "sdpMLineIndex " + std::to_string(mline) + " names no m= line (the remote description has " +
                    std::to_string(medias) + ")",
                ""};
      return false;
    }
  }
  std::string problem = candidate.empty() ? std::string() : CheckCandidate(candidate);
  if (!problem.empty()) {
    *error = {"ERR_INVALID_SDP", "candidate refused: " + problem, ""};
    return false;
  }
  if (!candidate.empty() && IsMdnsCandidate(candidate)) return true;  // see IsMdnsCandidate: left out
  // An empty candidate is end-of-candidates; webrtcbin 1.22 takes NULL for it.
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.empty() ? nullptr : candidate.c_str());
  return true;
}

void PeerCore::GetStats(uint64_t id) {
  EmitWithPromise("get-stats", nullptr, id, "stats");
}

std::string PeerCore::GetDescription(const char* property) {
  GstWebRTCSessionDescription* description = nullptr;
  g_object_get(webrtc_, property, &description, nullptr);
  if (!description) return {};
  GCharPtr text(gst_sdp_message_as_text(description->sdp));
  gst_webrtc_session_description_free(description);
  return text.or_empty();
}

std::string PeerCore::GetState(const char* property) {
  GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(webrtc_), property);
  if (!pspec || !G_IS_PARAM_SPEC_ENUM(pspec)) return {};
  gint value = 0;
  g_object_get(webrtc_, property, &value, nullptr);
  GEnumValue* ev = g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, value);
  return ev ? ev->value_nick : "";
}

void PeerCore::OnNegotiationNeeded() { pipe.Post(event::NegotiationNeeded{}); }

void PeerCore::OnIceCandidate(guint mline, const gchar* candidate) {
  pipe.Post(event::IceCandidate{mline, candidate ? candidate : ""});
}

void PeerCore::OnStateNotify(GObject* object, GParamSpec* pspec) {
  gint value = 0;
  g_object_get(object, pspec->name, &value, nullptr);
  GEnumValue* ev = G_IS_PARAM_SPEC_ENUM(pspec) ? g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, value)
                                               : nullptr;
  pipe.Post(event::State{pspec->name, ev ? ev->value_nick : ""});
  if (std::strcmp(pspec->name, "connection-state") == 0 && value == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    AskKeyframeOnceConnected();
  }
}

// The first frames went out while DTLS was still being set up, and a damage capture on a still screen
// sends no more: a viewer that missed them (a loaded machine, a lost packet, a decoder not ready) would
// wait for the next change. So our own encoder makes a keyframe, from a fresh frame, once per peer as the
// connection comes up. A shared encoder's peer has its join's keyframe waiting in webrtcbin already
// (start_gate_); it asks for a fresh one only if that hold overflowed.
void PeerCore::AskKeyframeOnceConnected() {
  GObjectPtr<GstPad> pad;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (connected_once_) return;
    connected_once_ = true;
    if (keyframe_pad_) pad = GObjectPtr<GstPad>::ref(keyframe_pad_.get());
  }
  if (pad) gst_pad_push_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  if (config_.encoder && encoder_src_ && start_gate_->Connected()) config_.encoder->RequestKeyframe();
}

void PeerCore::OnPromise(GstPromise* promise, uint64_t id, const char* field) {
  event::PromiseReply event;
  event.id = id;
  GstPromiseResult result = gst_promise_wait(promise);
  if (result != GST_PROMISE_RESULT_REPLIED) {
    event.ok = false;
    event.message = result == GST_PROMISE_RESULT_INTERRUPTED ? "the operation was interrupted"
                                                              : "the operation expired";
    pipe.Post(std::move(event));
    return;
  }
  // A reply may carry no structure at all (set-*-description success), a value, or an "error".
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (reply && gst_structure_has_field(reply, "error")) {
    GError* err = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    event.ok = false;
    event.message = err ? err->message : "webrtcbin reported an error without a message";
    if (err) g_error_free(err);
  } else if (field && (std::strcmp(field, "offer") == 0 || std::strcmp(field, "answer") == 0)) {
    GstWebRTCSessionDescription* description = nullptr;
    if (reply) gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, nullptr);
    if (!description) {
      event.ok = false;
      event.message = std::string("webrtcbin produced no ") + field;
    } else {
      GCharPtr text(gst_sdp_message_as_text(description->sdp));
      event.value = text.or_empty();
      gst_webrtc_session_description_free(description);
    }
  } else if (field && std::strcmp(field, "stats") == 0) {
    event.value = StructureToJson(reply);
  }
  pipe.Post(std::move(event));
}

}  // namespace wrtc
