#include "peer/peer_core.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <gst/sdp/sdp.h>

#include <cstring>

#include "common/gst_json.h"
#include "peer/ice_agent.h"
#include "peer/sdp_guard.h"

namespace wrtc {

namespace {

using WeakCore = std::weak_ptr<PeerCore>;

// Handlers hold a weak reference: a signal that fires while the peer is being destroyed finds
// nothing to call instead of a freed object.
std::shared_ptr<PeerCore> Lock(gpointer data) { return static_cast<WeakCore*>(data)->lock(); }
void FreeWeak(gpointer data, GClosure*) { delete static_cast<WeakCore*>(data); }

void NegotiationNeededCb(GstElement*, gpointer data) {
  if (auto core = Lock(data)) core->OnNegotiationNeeded();
}
void IceCandidateCb(GstElement*, guint mline, gchar* candidate, gpointer data) {
  if (auto core = Lock(data)) core->OnIceCandidate(mline, candidate);
}
void StateNotifyCb(GObject* object, GParamSpec* pspec, gpointer data) {
  if (auto core = Lock(data)) core->OnStateNotify(object, pspec);
}
void PadAddedCb(GstElement*, GstPad* pad, gpointer data) {
  if (auto core = Lock(data)) core->OnPadAdded(pad);
}
void DecodedPadCb(GstElement*, GstPad* pad, gpointer data) {
  if (auto core = Lock(data)) core->OnDecodedPad(pad);
}
void DataChannelCb(GstElement*, GstWebRTCDataChannel* channel, gpointer data) {
  if (auto core = Lock(data)) core->OnDataChannel(channel);
}

struct ChannelHandlerData {
  WeakCore core;
  uint64_t key;
};
void FreeChannelData(gpointer data, GClosure*) { delete static_cast<ChannelHandlerData*>(data); }
void PostChannel(gpointer data, EventType type, std::string text = {}, bool binary = false,
                 std::string message = {}) {
  auto* d = static_cast<ChannelHandlerData*>(data);
  auto core = d->core.lock();
  if (!core) return;
  Event event{type};
  event.id = d->key;
  event.text = std::move(text);
  event.binary = binary;
  event.message = std::move(message);
  core->pipe.Post(std::move(event));
}
void ChannelOpenCb(GObject*, gpointer data) { PostChannel(data, EventType::ChannelOpen); }
void ChannelCloseCb(GObject*, gpointer data) { PostChannel(data, EventType::ChannelClose); }
void ChannelErrorCb(GObject*, GError* error, gpointer data) {
  PostChannel(data, EventType::ChannelError, {}, false, error ? error->message : "data channel error");
}
void ChannelStringCb(GObject*, gchar* text, gpointer data) {
  PostChannel(data, EventType::ChannelMessage, text ? text : "", false);
}
void ChannelDataCb(GObject*, GBytes* bytes, gpointer data) {
  gsize size = 0;
  const char* raw = bytes ? static_cast<const char*>(g_bytes_get_data(bytes, &size)) : nullptr;
  PostChannel(data, EventType::ChannelMessage, std::string(raw ? raw : "", size), true);
}

struct PromiseData {
  WeakCore core;
  uint64_t id;
  const char* field;  // static string: which reply field holds the result ("offer", "answer", "stats")
};
void PromiseCb(GstPromise* promise, gpointer data) {
  auto* d = static_cast<PromiseData*>(data);
  if (auto core = d->core.lock()) core->OnPromise(promise, d->id, d->field);
}
void FreePromiseData(gpointer data) { delete static_cast<PromiseData*>(data); }

GstBusSyncReply BusSyncCb(GstBus*, GstMessage* message, gpointer data) {
  if (auto core = Lock(data)) core->OnBusMessage(message);
  // No main loop reads this bus: everything went to the event pipe already. Returning DROP hands
  // the message to us, so it is ours to unref (each message holds a ref on its source element).
  gst_message_unref(message);
  return GST_BUS_DROP;
}
void FreeWeakNotify(gpointer data) { delete static_cast<WeakCore*>(data); }

GstFlowReturn NewSampleCb(GstAppSink* sink, gpointer data) {
  if (auto core = Lock(data)) return core->OnSample(GST_ELEMENT(sink));
  return GST_FLOW_OK;
}

GstPadProbeReturn HoldCb(GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; }

GstFlowReturn NewAudioSampleCb(GstAppSink* sink, gpointer data) {
  if (auto core = Lock(data)) return core->OnAudioSample(GST_ELEMENT(sink));
  return GST_FLOW_OK;
}

void FreeWeakEncoder(gpointer data) { delete static_cast<std::weak_ptr<SharedEncoder>*>(data); }
GstPadProbeReturn KeyframeRequestCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
  if (auto encoder = static_cast<std::weak_ptr<SharedEncoder>*>(data)->lock()) encoder->RequestKeyframe();
  return GST_PAD_PROBE_DROP;
}

// Reports the send caps (the offer needs them: H.264's profile-level-id comes from the encoder).
GstPadProbeReturn CapsProbeCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    if (auto core = Lock(data)) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GCharPtr text(gst_caps_to_string(caps));
      Event out(EventType::SendCaps);
      out.text = text.or_empty();
      core->pipe.Post(std::move(out));
    }
  }
  return GST_PAD_PROBE_OK;
}

std::string ElementName(GstObject* object) {
  if (!object) return {};
  GCharPtr name(gst_object_get_name(object));
  return name.or_empty();
}

// Every pipeline runs on the system clock. Left to choose, a pipeline takes the clock of its most
// upstream clock provider: an audio source (pulsesrc on an idle monitor) whose clock does not advance
// stalls every live source in it, video included.
GstElement* NewPipeline() {
  GstElement* pipeline = GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr)));
  GstClock* clock = gst_system_clock_obtain();
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock);
  gst_object_unref(clock);
  return pipeline;
}

}  // namespace

std::atomic<int64_t> PeerCore::alive_{0};

PeerCore::PeerCore(PeerConfig config) : config_(std::move(config)) {}

PeerCore::~PeerCore() {
  // Teardown ran before the last reference went (see FinishTeardown); this only frees memory.
  if (teardown_thread_.joinable()) teardown_thread_.detach();
}

void PeerCore::Connect(gpointer instance, const char* signal, GCallback callback) {
  gulong id = g_signal_connect_data(instance, signal, callback, new WeakCore(weak_from_this()),
                                    FreeWeak, GConnectFlags(0));
  std::lock_guard<std::mutex> lock(mutex_);
  handlers_.emplace_back(GObjectPtr<GObject>::ref(G_OBJECT(instance)), id);
}

void PeerCore::DisconnectAll() {
  std::vector<std::pair<GObjectPtr<GObject>, gulong>> handlers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers.swap(handlers_);
  }
  for (auto& [object, id] : handlers) {
    if (g_signal_handler_is_connected(object.get(), id)) g_signal_handler_disconnect(object.get(), id);
  }
}

bool PeerCore::BuildEncoder(NativeError* error) {
  pipeline_.reset(NewPipeline());
  GstElement* bin = ParseBin(config_.encoderDescription, "encoder", "encoder", false, error);
  if (!bin) return false;
  media_ = bin;
  shared_encoder_ = std::make_shared<SharedEncoder>();
  if (!shared_encoder_->Attach(bin)) {
    *error = {"ERR_PIPELINE", "the encoder pipeline needs a valve named gate and an appsink named encoded", ""};
    return false;
  }
  GstBus* bus = gst_element_get_bus(pipeline_.get());
  gst_bus_set_sync_handler(bus, BusSyncCb, new WeakCore(weak_from_this()), FreeWeakNotify);
  gst_object_unref(bus);
  return true;
}

// A gst-launch fragment as a bin named `name` inside the pipeline (its one unlinked src pad ghosted
// when `ghost_src`).
GstElement* PeerCore::ParseBin(const std::string& description, const char* name, const char* what,
                               bool ghost_src, NativeError* error) {
  GstParseContext* context = gst_parse_context_new();
  GErrorPtr parse_error;
  GstElement* bin = gst_parse_bin_from_description_full(description.c_str(), ghost_src, context,
                                                        GST_PARSE_FLAG_FATAL_ERRORS, parse_error.out());
  gchar** missing = gst_parse_context_get_missing_elements(context);
  gst_parse_context_free(context);
  if (!bin) {
    if (missing && missing[0]) {
      *error = {"ERR_MISSING_PLUGIN", std::string("GStreamer element '") + missing[0] + "' is not installed", missing[0]};
    } else {
      *error = {"ERR_PIPELINE",
                std::string("invalid ") + what + " pipeline: " + (parse_error ? parse_error.get()->message : "could not be parsed"),
                ""};
    }
    g_strfreev(missing);
    return nullptr;
  }
  g_strfreev(missing);
  gst_object_set_name(GST_OBJECT(bin), name);
  gst_bin_add(GST_BIN(pipeline_.get()), bin);
  return bin;
}

// Blocks the encoded stream before the payloader (or at the bin's src pad without one) until
// ReleaseMedia(). Returns the bin's src pad (a new reference), or null when it has none.
GstPad* PeerCore::Hold(SendStream& stream) {
  GstPad* src = gst_element_get_static_pad(stream.bin, "src");
  if (!src) return nullptr;
  GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(stream.bin), stream.payloader));
  GstPad* hold_pad = pay ? gst_element_get_static_pad(pay.get(), "sink") : GST_PAD(gst_object_ref(src));
  stream.hold_probe = gst_pad_add_probe(hold_pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, HoldCb, nullptr, nullptr);
  stream.hold_pad.reset(hold_pad);
  return src;
}

// Only called with the pipeline out of NULL: that is when webrtcbin hands out a sink pad.
bool PeerCore::LinkToWebrtc(SendStream& stream, GstPad* src, const std::string& caps_text, NativeError* error) {
  GObjectPtr<GstPad> sink(gst_element_request_pad_simple(webrtc_, "sink_%u"));
  if (!sink) {
    *error = {"ERR_PAD_REQUEST", "webrtcbin returned no sink pad for sink_%u", "webrtcbin"};
    return false;
  }
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_object_get(sink.get(), "transceiver", &transceiver, nullptr);
  stream.transceiver.reset(transceiver);
  if (transceiver) {
    // Codec preferences let createOffer() work before the first buffer has fixed the caps.
    GstCaps* caps = caps_text.empty() ? nullptr : gst_caps_from_string(caps_text.c_str());
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
    if (caps) g_object_set(transceiver, "codec-preferences", caps, nullptr);
    // Retransmission is for video; browsers refuse an RTX group on audio (Opus conceals instead).
    if (config_.nack && &stream == &video_send_) g_object_set(transceiver, "do-nack", TRUE, nullptr);
    if (config_.fecPercentage > 0 && &stream == &video_send_) {
      gst_util_set_object_arg(G_OBJECT(transceiver), "fec-type", "ulp-red");
      g_object_set(transceiver, "fec-percentage", static_cast<guint>(config_.fecPercentage), nullptr);
    }
    if (caps) gst_caps_unref(caps);
  }
  GstPadLinkReturn link = gst_pad_link(src, sink.get());
  if (link != GST_PAD_LINK_OK) {
    *error = {"ERR_PAD_REQUEST", std::string("could not link the source to webrtcbin: ") + gst_pad_link_get_name(link),
              "webrtcbin"};
    return false;
  }
  return true;
}

bool PeerCore::Build(NativeError* error) {
  if (!config_.encoderDescription.empty()) return BuildEncoder(error);
  GstElement* webrtc = gst_element_factory_make("webrtcbin", "webrtc");
  if (!webrtc) {
    *error = {"ERR_MISSING_PLUGIN", "GStreamer element 'webrtcbin' is not installed", "webrtcbin"};
    return false;
  }
  pipeline_.reset(NewPipeline());
  gst_bin_add(GST_BIN(pipeline_.get()), webrtc);  // the pipeline owns it from here
  // Counts webrtcbins until GStreamer actually finalizes them: a leaked reference anywhere shows here.
  alive_.fetch_add(1);
  g_object_weak_ref(G_OBJECT(webrtc), [](gpointer, GObject*) { alive_.fetch_sub(1); }, nullptr);
  webrtc_ = webrtc;

  DisableUpnp(webrtc);  // ice_agent.h: no UPnP discovery for a VM peer
  gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", config_.bundlePolicy.c_str());
  gst_util_set_object_arg(G_OBJECT(webrtc), "ice-transport-policy", config_.iceTransportPolicy.c_str());
  g_object_set(webrtc, "latency", static_cast<guint>(config_.latencyMs), nullptr);
  if (!config_.stunServer.empty()) g_object_set(webrtc, "stun-server", config_.stunServer.c_str(), nullptr);
  for (const auto& turn : config_.turnServers) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", turn.c_str(), &ok);
    if (!ok) {
      // The URI holds a credential: never echo it back.
      *error = {"ERR_INVALID_ICE_SERVER", "webrtcbin rejected a TURN server URI", "webrtcbin"};
      return false;
    }
  }

  // Connected before any pad is requested: negotiation-needed fires as soon as a transceiver exists.
  Connect(webrtc, "on-negotiation-needed", G_CALLBACK(NegotiationNeededCb));
  Connect(webrtc, "on-ice-candidate", G_CALLBACK(IceCandidateCb));
  for (const char* prop : {"notify::connection-state", "notify::ice-connection-state",
                           "notify::ice-gathering-state", "notify::signaling-state"}) {
    Connect(webrtc, prop, G_CALLBACK(StateNotifyCb));
  }
  Connect(webrtc, "pad-added", G_CALLBACK(PadAddedCb));
  Connect(webrtc, "on-data-channel", G_CALLBACK(DataChannelCb));

  if (!config_.sendDescription.empty()) {
    media_ = ParseBin(config_.sendDescription, "media", "source", true, error);
    if (!media_) return false;
    video_send_.bin = media_;
    video_send_.payloader = "pay";
  }
  if (!config_.sendAudioDescription.empty()) {
    audio_send_.bin = ParseBin(config_.sendAudioDescription, "audio", "audio source", true, error);
    if (!audio_send_.bin) return false;
    audio_send_.payloader = "apay";
    // The audio starts only once linked and the pipeline plays (see Start): an audio source that
    // reaches PAUSED before webrtcbin's pad is linked can miss its first caps negotiation (pulsesrc:
    // "ringbuffer in wrong state", its task paused for good).
    gst_element_set_locked_state(audio_send_.bin, TRUE);
  }

  if (!config_.receiveCaps.empty()) {
    // GStreamer 1.22 answers only for m-lines it has a transceiver (with caps) for.
    GstCaps* caps = gst_caps_from_string(config_.receiveCaps.c_str());
    if (!caps) {
      *error = {"ERR_PIPELINE", "invalid receive caps: " + config_.receiveCaps, ""};
      return false;
    }
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                          &transceiver);
    gst_caps_unref(caps);
    if (transceiver) {
      if (config_.nack) g_object_set(transceiver, "do-nack", TRUE, nullptr);
      receive_transceiver_.reset(transceiver);
    }
  }

  if (!config_.receiveAudioCaps.empty()) {
    GstCaps* caps = gst_caps_from_string(config_.receiveAudioCaps.c_str());
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    if (caps) {
      g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &transceiver);
      gst_caps_unref(caps);
    }
    if (transceiver) gst_object_unref(transceiver);
  }

  GstBus* bus = gst_element_get_bus(pipeline_.get());
  gst_bus_set_sync_handler(bus, BusSyncCb, new WeakCore(weak_from_this()), FreeWeakNotify);
  gst_object_unref(bus);
  return true;
}

bool PeerCore::Start(NativeError* error) {
  auto state_error = [&](const char* what) {
    std::lock_guard<std::mutex> lock(mutex_);
    *error = {"ERR_STATE_CHANGE", std::string(what) + (last_error_.empty() ? "" : ": " + last_error_), ""};
    return false;
  };

  if (shared_encoder_) {
    // Encoder mode: just run; the gate stays shut until a peer subscribes.
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      return state_error("the encoder pipeline could not start");
    }
    capture_guard_.Protect(pipeline_.get());
    return true;
  }
  GObjectPtr<GstPad> src;
  if (media_ && config_.encoder) {
    // Fed by a shared encoder: its keyframe requests (PLI/FIR from this viewer) go to that encoder.
    encoder_src_.reset(gst_bin_get_by_name(GST_BIN(media_), "encsrc"));
    if (!encoder_src_) {
      *error = {"ERR_PIPELINE", "a shared-encoder peer needs an appsrc named encsrc", ""};
      return false;
    }
    GObjectPtr<GstPad> pad(gst_element_get_static_pad(encoder_src_.get(), "src"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, KeyframeRequestCb,
                      new std::weak_ptr<SharedEncoder>(config_.encoder), FreeWeakEncoder);
  }
  GObjectPtr<GstPad> audio_src;
  // A non-live source pushes while PAUSED, and the payload type is only known once negotiation
  // starts (a remote offer chooses it): both streams wait before their payloaders.
  if (media_) {
    src.reset(Hold(video_send_));
    if (!src) {
      *error = {"ERR_PIPELINE", "the source pipeline has no unlinked src pad (it must end in an RTP payloader)", ""};
      return false;
    }
  }
  if (audio_send_.bin) {
    audio_src.reset(Hold(audio_send_));
    if (!audio_src) {
      *error = {"ERR_PIPELINE", "the audio pipeline has no unlinked src pad (it must end in an RTP payloader)", ""};
      return false;
    }
  }

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
    return state_error("the pipeline could not be paused");
  }
  // Wait for PAUSED (live sources answer NO_PREROLL at once; a held non-live one stays ASYNC).
  if (gst_element_get_state(pipeline_.get(), nullptr, nullptr, 5 * GST_SECOND) == GST_STATE_CHANGE_FAILURE) {
    return state_error("the pipeline failed while pausing");
  }
  // Sources have started (ximagesrc has opened its Display): a lost X server must not exit().
  capture_guard_.Protect(pipeline_.get());

  // Only now, with the pipeline out of NULL, are the request pads asked for (video first: the
  // m-line order of our offers).
  if (media_) {
    if (!LinkToWebrtc(video_send_, src.get(), config_.sendCaps, error)) return false;
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, CapsProbeCb, new WeakCore(weak_from_this()),
                      FreeWeakNotify);
  }
  if (audio_send_.bin && !LinkToWebrtc(audio_send_, audio_src.get(), config_.sendAudioCaps, error)) return false;

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    return state_error("the pipeline could not start playing");
  }
  if (audio_send_.bin) {
    gst_element_set_locked_state(audio_send_.bin, FALSE);
    if (!gst_element_sync_state_with_parent(audio_send_.bin)) return state_error("the audio source could not start");
  }
  return true;
}

GstPromise* PeerCore::NewPromise(uint64_t id, const char* field) {
  return gst_promise_new_with_change_func(PromiseCb, new PromiseData{weak_from_this(), id, field},
                                          FreePromiseData);
}

bool PeerCore::SetSendPayloadType(bool audio, int payload_type, const std::string& preferences) {
  std::lock_guard<std::mutex> lock(mutex_);
  SendStream& stream = audio ? audio_send_ : video_send_;
  if (!stream.bin || !stream.hold_pad) return false;  // media already flows: its caps are fixed
  // The payloader has not negotiated yet (its input is held), so the new pt is simply used when it
  // does; webrtcbin then sees caps that match the remote offer's entry.
  GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(stream.bin), stream.payloader));
  if (pay) g_object_set(pay.get(), "pt", static_cast<guint>(payload_type), nullptr);
  GstCaps* caps = gst_caps_from_string(preferences.c_str());
  if (stream.transceiver && caps) g_object_set(stream.transceiver.get(), "codec-preferences", caps, nullptr);
  if (caps) gst_caps_unref(caps);
  return static_cast<bool>(pay);
}

bool PeerCore::SetReceivePreferences(const std::string& caps_text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!receive_transceiver_) return false;
  GstCaps* caps = gst_caps_from_string(caps_text.c_str());
  if (!caps) return false;
  g_object_set(receive_transceiver_.get(), "codec-preferences", caps, nullptr);
  gst_caps_unref(caps);
  return true;
}

bool PeerCore::EnablePlayoutDelay(int id, int min_ms, int max_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!video_send_.bin || id < 1 || id > 14) return false;
  // "rtpcaps" ends every send description (lib/media/send.ts): its output is the finished RTP stream.
  GObjectPtr<GstElement> caps(gst_bin_get_by_name(GST_BIN(video_send_.bin), "rtpcaps"));
  if (!caps) return false;
  GObjectPtr<GstPad> src(gst_element_get_static_pad(caps.get(), "src"));
  if (!src) return false;
  playout_delay_.Enable(src.get(), id, min_ms, max_ms);
  return true;
}

void PeerCore::ReleaseMedia() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (audio_send_.hold_pad) {
    gst_pad_remove_probe(audio_send_.hold_pad.get(), audio_send_.hold_probe);
    audio_send_.hold_pad.reset();
  }
  if (!video_send_.hold_pad) return;
  gst_pad_remove_probe(video_send_.hold_pad.get(), video_send_.hold_probe);
  video_send_.hold_pad.reset();
  // Only now does a shared encoder start feeding this peer (from a keyframe it asks for).
  if (config_.encoder && encoder_src_) config_.encoder->Subscribe(reinterpret_cast<uintptr_t>(this), encoder_src_.get());
}

// webrtcbin takes its own reference on a promise it queues; ours is dropped right after the call.
void PeerCore::EmitWithPromise(const char* signal, gpointer argument, uint64_t id, const char* field) {
  GstPromise* promise = NewPromise(id, field);
  g_signal_emit_by_name(webrtc_, signal, argument, promise);
  gst_promise_unref(promise);
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

void PeerCore::RecalculateLatency() {
  if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
}

void PeerCore::OnNegotiationNeeded() { pipe.Post(Event{EventType::NegotiationNeeded}); }

void PeerCore::OnIceCandidate(guint mline, const gchar* candidate) {
  Event event{EventType::IceCandidate};
  event.mline = mline;
  event.text = candidate ? candidate : "";
  pipe.Post(std::move(event));
}

void PeerCore::OnStateNotify(GObject* object, GParamSpec* pspec) {
  gint value = 0;
  g_object_get(object, pspec->name, &value, nullptr);
  GEnumValue* ev = G_IS_PARAM_SPEC_ENUM(pspec) ? g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, value)
                                               : nullptr;
  Event event{EventType::StateChange};
  event.name = pspec->name;
  event.text = ev ? ev->value_nick : "";
  pipe.Post(std::move(event));
}

// A receive tail (ghost sink pad) whose appsink `sink_name` calls `on_sample` with a weak ref to us.
GstElement* PeerCore::SinkBin(const std::string& description, const char* sink_name,
                              GstFlowReturn (*on_sample)(GstAppSink*, gpointer)) {
  GstElement* tail = gst_parse_bin_from_description(description.c_str(), TRUE, nullptr);
  if (!tail) return nullptr;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(tail), sink_name);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, new WeakCore(weak_from_this()), FreeWeakNotify);
  gst_object_unref(sink);
  return tail;
}

void PeerCore::OnPadAdded(GstPad* pad) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC || closing_) return;
  Event event{EventType::Track};
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    const gchar* media = gst_structure_get_string(s, "media");
    const gchar* encoding = gst_structure_get_string(s, "encoding-name");
    event.name = media ? media : "";
    event.text = encoding ? encoding : "";
    gst_caps_unref(caps);
  }
  // Encoded access: depayload only, hand the compressed frames to JS.
  if (config_.receiveEncoded && event.name == "video") {
    std::string depay;
    if (event.text == "VP8") depay = "rtpvp8depay";
    else if (event.text == "VP9") depay = "rtpvp9depay";
    else if (event.text == "H264") depay = "rtph264depay ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au";
    if (!depay.empty()) {
      std::string description = "queue ! " + depay + " ! appsink name=frames sync=false max-buffers=0 drop=false";
      GstElement* tail = SinkBin(description, "frames", NewSampleCb);
      if (tail) {
        gst_bin_add(GST_BIN(pipeline_.get()), tail);
        gst_element_sync_state_with_parent(tail);
        GObjectPtr<GstPad> tail_sink(gst_element_get_static_pad(tail, "sink"));
        gst_pad_link(pad, tail_sink.get());
        pipe.Post(std::move(event));
        return;
      }
    }
  }
  // Runs on a streaming thread: elements may be added to a playing bin here, then synced to it.
  GstElement* decode = gst_element_factory_make("decodebin", nullptr);
  if (!decode) {
    Event missing{EventType::BusError};
    missing.name = "decodebin";
    missing.message = "GStreamer element 'decodebin' is not installed";
    missing.domain = "missing-plugin";
    pipe.Post(std::move(missing));
    return;
  }
  Connect(decode, "pad-added", G_CALLBACK(DecodedPadCb));
  gst_bin_add(GST_BIN(pipeline_.get()), decode);
  gst_element_sync_state_with_parent(decode);
  GObjectPtr<GstPad> sink(gst_element_get_static_pad(decode, "sink"));
  gst_pad_link(pad, sink.get());
  pipe.Post(std::move(event));
}

void PeerCore::OnDecodedPad(GstPad* pad) {
  if (closing_) return;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  const gchar* name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  bool video = g_str_has_prefix(name, "video/");
  gst_caps_unref(caps);

  GstElement* tail = nullptr;
  if (video) {
    // Optional scaling to the size the consumer asked for (before conversion: fewer pixels to convert).
    std::string size;
    if (config_.receiveWidth > 0) size += ",width=" + std::to_string(config_.receiveWidth);
    if (config_.receiveHeight > 0) size += ",height=" + std::to_string(config_.receiveHeight);
    std::string description = "queue max-size-buffers=2 leaky=downstream ! " +
                              std::string(size.empty() ? "" : "videoscale ! video/x-raw" + size + ",pixel-aspect-ratio=1/1 ! ") +
                              "videoconvert ! video/x-raw,format=" + config_.receiveFormat +
                              " ! appsink name=frames sync=false max-buffers=1 drop=true";
    tail = SinkBin(description, "frames", NewSampleCb);
  } else if (g_str_has_prefix(name, "audio/") && !config_.receiveAudioCaps.empty()) {
    std::string description = "queue ! audioconvert ! audioresample ! audio/x-raw,layout=interleaved,format=" +
                              config_.audioFormat + ",rate=" + std::to_string(config_.audioRate) +
                              ",channels=" + std::to_string(config_.audioChannels) +
                              " ! appsink name=audio sync=false max-buffers=0 drop=false";
    tail = SinkBin(description, "audio", NewAudioSampleCb);
  } else {
    tail = gst_element_factory_make("fakesink", nullptr);
    if (tail) g_object_set(tail, "async", FALSE, "sync", FALSE, nullptr);
  }
  if (!tail) return;
  gst_bin_add(GST_BIN(pipeline_.get()), tail);
  gst_element_sync_state_with_parent(tail);
  GObjectPtr<GstPad> sink(gst_element_get_static_pad(tail, "sink"));
  gst_pad_link(pad, sink.get());
}

GstFlowReturn PeerCore::OnSample(GstElement* appsink) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (!sample) return GST_FLOW_EOS;
  frames_decoded_.fetch_add(1);
  // maxFps: frames closer together than the interval are not handed to JS at all.
  if (config_.minFrameIntervalNs > 0) {
    gint64 now = g_get_monotonic_time() * 1000;
    if (last_frame_ns_ && now - last_frame_ns_ < config_.minFrameIntervalNs) {
      gst_sample_unref(sample);
      frames_skipped_.fetch_add(1);
      return GST_FLOW_OK;
    }
    last_frame_ns_ = now;
  }
  std::unique_ptr<MappedFrame> frame = MappedFrame::Adopt(sample);
  if (!frame) return GST_FLOW_OK;
  // Decoded frames: latest only — while JS has not taken the previous one, a newer frame replaces it,
  // so a slow consumer never makes memory grow; one event is in flight at most. Compressed frames are
  // all needed by a decoder: they queue (bounded; the oldest go first).
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    if (config_.receiveEncoded) {
      if (pending_frames_.size() >= 300) {
        pending_frames_.pop_front();
        frames_dropped_.fetch_add(1);
      }
      pending_frames_.push_back(std::move(frame));
      post = true;
    } else {
      if (!pending_frames_.empty()) frames_dropped_.fetch_add(1);
      pending_frames_.clear();
      pending_frames_.push_back(std::move(frame));
      if (!frame_posted_) post = frame_posted_ = true;
    }
  }
  if (post) pipe.Post(Event{EventType::Frame});
  return GST_FLOW_OK;
}

// Audio is small and every sample matters: each buffer is copied into its own event, in order.
GstFlowReturn PeerCore::OnAudioSample(GstElement* appsink) {
  GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(appsink));
  if (!sample) return GST_FLOW_EOS;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    Event event{EventType::Audio};
    event.text.assign(reinterpret_cast<const char*>(map.data), map.size);
    event.width = config_.audioRate;
    event.height = config_.audioChannels;
    event.name = config_.audioFormat;
    event.pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    gst_buffer_unmap(buffer, &map);
    pipe.Post(std::move(event));
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

std::unique_ptr<MappedFrame> PeerCore::TakeFrame() {
  std::lock_guard<std::mutex> lock(frame_mutex_);
  frame_posted_ = false;
  if (pending_frames_.empty()) return nullptr;
  std::unique_ptr<MappedFrame> frame = std::move(pending_frames_.front());
  pending_frames_.pop_front();
  return frame;
}

uint64_t PeerCore::RegisterChannel(GstWebRTCDataChannel* channel) {
  uint64_t key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    key = next_channel_++;
    channels_.emplace(key, GObjectPtr<GstWebRTCDataChannel>::ref(channel));
  }
  WatchChannel(key, channel);
  return key;
}

void PeerCore::WatchChannel(uint64_t key, GstWebRTCDataChannel* channel) {
  struct Handler {
    const char* signal;
    GCallback callback;
  };
  for (const Handler& h : {Handler{"on-open", G_CALLBACK(ChannelOpenCb)},
                           Handler{"on-close", G_CALLBACK(ChannelCloseCb)},
                           Handler{"on-error", G_CALLBACK(ChannelErrorCb)},
                           Handler{"on-message-string", G_CALLBACK(ChannelStringCb)},
                           Handler{"on-message-data", G_CALLBACK(ChannelDataCb)}}) {
    gulong id = g_signal_connect_data(channel, h.signal, h.callback,
                                      new ChannelHandlerData{weak_from_this(), key}, FreeChannelData,
                                      GConnectFlags(0));
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.emplace_back(GObjectPtr<GObject>::ref(G_OBJECT(channel)), id);
  }
}

void PeerCore::OnDataChannel(GstWebRTCDataChannel* channel) {
  if (closing_) return;
  uint64_t key = RegisterChannel(channel);
  GCharPtr label;
  g_object_get(channel, "label", label.out(), nullptr);
  Event event{EventType::DataChannel};
  event.id = key;
  event.name = label.or_empty();
  pipe.Post(std::move(event));
}

uint64_t PeerCore::CreateDataChannel(const std::string& label, const std::string& options_structure) {
  GstStructure* options = options_structure.empty() ? nullptr : gst_structure_from_string(options_structure.c_str(), nullptr);
  GstWebRTCDataChannel* channel = nullptr;
  g_signal_emit_by_name(webrtc_, "create-data-channel", label.c_str(), options, &channel);
  if (options) gst_structure_free(options);
  if (!channel) return 0;
  uint64_t key = RegisterChannel(channel);
  g_object_unref(channel);  // the signal returned a reference; channels_ holds its own
  return key;
}

bool PeerCore::SendOnChannel(uint64_t key, const std::string& text, const void* data, size_t size, bool binary) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return false;
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  if (binary) {
    GBytes* bytes = g_bytes_new(data, size);
    g_signal_emit_by_name(channel.get(), "send-data", bytes);
    g_bytes_unref(bytes);
  } else {
    g_signal_emit_by_name(channel.get(), "send-string", text.c_str());
  }
  return true;
}

void PeerCore::CloseChannel(uint64_t key) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return;
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  g_signal_emit_by_name(channel.get(), "close");
}

std::string PeerCore::ChannelInfoJson(uint64_t key) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return "null";
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  GCharPtr label, protocol;
  gint id = -1;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  guint64 buffered = 0;
  gboolean ordered = TRUE;
  g_object_get(channel.get(), "label", label.out(), "protocol", protocol.out(), "id", &id, "ready-state", &state,
               "buffered-amount", &buffered, "ordered", &ordered, nullptr);
  const char* states[] = {"", "connecting", "open", "closing", "closed"};
  std::string out = "{\"label\":";
  AppendJsonString(out, label.or_empty());
  out += ",\"protocol\":";
  AppendJsonString(out, protocol.or_empty());
  out += ",\"id\":" + std::to_string(id) + ",\"readyState\":";
  AppendJsonString(out, state >= 1 && state <= 4 ? states[state] : "closed");
  out += ",\"bufferedAmount\":" + std::to_string(buffered) + ",\"ordered\":" + (ordered ? "true" : "false") + "}";
  return out;
}

void PeerCore::OnBusMessage(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      bool is_error = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
      GError* err = nullptr;
      gchar* debug = nullptr;
      if (is_error) gst_message_parse_error(message, &err, &debug);
      else gst_message_parse_warning(message, &err, &debug);
      Event event{is_error ? EventType::BusError : EventType::BusWarning};
      event.name = ElementName(GST_MESSAGE_SRC(message));
      if (err) {
        event.domain = g_quark_to_string(err->domain);
        event.code = err->code;
        event.message = err->message;
      }
      event.debug = debug ? debug : "";
      if (is_error) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = event.name + ": " + event.message;
      }
      if (err) g_error_free(err);
      g_free(debug);
      pipe.Post(std::move(event));
      break;
    }
    case GST_MESSAGE_EOS:
      pipe.Post(Event{EventType::Eos});
      break;
    case GST_MESSAGE_LATENCY:
      pipe.Post(Event{EventType::Latency});
      break;
    default:
      break;
  }
}

void PeerCore::OnPromise(GstPromise* promise, uint64_t id, const char* field) {
  Event event{EventType::PromiseReply};
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
      event.text = text.or_empty();
      gst_webrtc_session_description_free(description);
    }
  } else if (field && std::strcmp(field, "stats") == 0) {
    event.text = StructureToJson(reply);
  }
  pipe.Post(std::move(event));
}

void PeerCore::BeginClose() {
  if (closing_.exchange(true)) return;
  DisconnectAll();
  auto self = shared_from_this();
  // set_state(NULL) can take long (network threads, a stuck source): never on the JS thread.
  teardown_thread_ = std::thread([self] {
    self->Teardown();
    self->pipe.Release();
  });
}

void PeerCore::Teardown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (torn_down_) return;
    torn_down_ = true;
  }
  closing_ = true;
  if (config_.encoder) config_.encoder->Unsubscribe(reinterpret_cast<uintptr_t>(this));
  if (shared_encoder_) shared_encoder_->Detach();
  DisconnectAll();
  if (pipeline_) {
    if (audio_send_.bin) gst_element_set_locked_state(audio_send_.bin, FALSE);  // never started: stop it too
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    GstBus* bus = gst_element_get_bus(pipeline_.get());
    gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
    gst_object_unref(bus);
  }
  std::map<uint64_t, GObjectPtr<GstWebRTCDataChannel>> channels;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    channels.swap(channels_);
  }
  channels.clear();
  {
    std::lock_guard<std::mutex> lock(frame_mutex_);
    pending_frames_.clear();  // frames nobody took are released with the pipeline
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (SendStream* stream : {&video_send_, &audio_send_}) {
      stream->hold_pad.reset();
      stream->transceiver.reset();
      stream->bin = nullptr;
    }
    receive_transceiver_.reset();
    encoder_src_.reset();
  }
  webrtc_ = nullptr;
  media_ = nullptr;
  pipeline_.reset();
}

void PeerCore::FinishTeardown() {
  if (teardown_thread_.joinable()) teardown_thread_.join();
  Teardown();
}

}  // namespace wrtc
