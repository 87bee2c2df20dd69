// One peer's construction: the pipeline, webrtcbin and its handlers, and the state-change order
// that lets request_pad_simple succeed (PAUSED before the sink pads are requested).
#include "peer/peer_core.h"

#include "peer/ice_agent.h"
#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

// Every pipeline runs on the system clock. Left to choose, a pipeline takes the clock of its most
// upstream clock provider: an audio source (pulsesrc on an idle monitor) whose clock does not advance
// stalls every live source in it, video included.
GstElement* NewPipeline() {
  GstElement* pipeline = GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr)));
  GObjectPtr<GstClock> clock(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock.get());
  return pipeline;
}

namespace {

// The first of the parser's "missing" names that the registry really lacks. GStreamer 1.22 also
// lists an element whose factory exists when a property could not be set on it (`videotestsrc
// patern=ball`): that is a mistake in the description, not a missing plugin.
std::string UnregisteredElement(gchar** missing) {
  for (gchar** name = missing; name && *name; ++name) {
    GObjectPtr<GstElementFactory> factory(gst_element_factory_find(*name));
    if (!factory) return *name;
  }
  return {};
}

}  // namespace

GstElement* ParseDescription(const std::string& description, const char* what, bool ghost_unlinked,
                             NativeError* error) {
  GstParseContext* context = gst_parse_context_new();
  GErrorPtr parse_error;
  GstElement* bin = gst_parse_bin_from_description_full(description.c_str(), ghost_unlinked, context,
                                                        GST_PARSE_FLAG_FATAL_ERRORS, parse_error.out());
  gchar** missing = gst_parse_context_get_missing_elements(context);
  gst_parse_context_free(context);
  if (!bin) {
    std::string unregistered = UnregisteredElement(missing);
    if (!unregistered.empty()) {
      *error = {"ERR_MISSING_PLUGIN", "GStreamer element '" + unregistered + "' is not installed", unregistered};
    } else {
      // GStreamer's own words (no property "patern" in element "videotestsrc", could not link…).
      *error = {"ERR_PIPELINE",
                std::string("invalid ") + what + " pipeline: " +
                    (parse_error ? parse_error.get()->message : "could not be parsed") +
                    " (try it with gst-launch-1.0; gst-inspect-1.0 ELEMENT lists an element's properties)",
                ""};
    }
  }
  g_strfreev(missing);
  return bin;
}

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

bool PeerCore::Build(NativeError* error) {
  GstElement* webrtc = gst_element_factory_make("webrtcbin", "webrtc");
  if (!webrtc) {
    *error = {"ERR_MISSING_PLUGIN", "GStreamer element 'webrtcbin' is not installed", "webrtcbin"};
    return false;
  }
  pipeline_.reset(NewPipeline());
  g_signal_connect(pipeline_.get(), "deep-element-added", G_CALLBACK(TuneAddedElementCb), nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), webrtc);  // the pipeline owns it from here
  // Counts webrtcbins until GStreamer actually finalizes them: a leaked reference anywhere shows here.
  alive_.fetch_add(1);
  g_object_weak_ref(G_OBJECT(webrtc), [](gpointer, GObject*) { alive_.fetch_sub(1); }, nullptr);
  webrtc_ = webrtc;

  ConfigureIceAgent(webrtc);  // ice_agent.h: no UPnP discovery, checks paced at 5 ms
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
    MiniObjectPtr<GstCaps> caps = CapsFromString(config_.receiveCaps);
    if (!caps) {
      *error = {"ERR_PIPELINE", "invalid receive caps: " + config_.receiveCaps, ""};
      return false;
    }
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(),
                          &transceiver);
    receive_transceiver_.reset(transceiver);
    if (receive_transceiver_ && config_.nack) g_object_set(transceiver, "do-nack", TRUE, nullptr);
  }

  if (!config_.receiveAudioCaps.empty()) {
    MiniObjectPtr<GstCaps> caps = CapsFromString(config_.receiveAudioCaps);
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    if (caps) {
      g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(), &transceiver);
    }
    GObjectPtr<GstWebRTCRTPTransceiver> unused(transceiver);  // webrtcbin keeps its own
  }

  GObjectPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), BusSyncCb, new WeakCore(weak_from_this()), FreeWeakNotify);
  return true;
}

bool PeerCore::Start(NativeError* error) {
  auto state_error = [&](const char* what) {
    std::lock_guard<std::mutex> lock(mutex_);
    *error = StartFailure(what, start_cause_);
    return false;
  };

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
  } else if (media_) {
    // Our own encoder: a keyframe request must also bring a frame from a damage capture, which sends
    // nothing on a still screen (the encoder keeps the request for a next frame that never comes).
    GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(media_), video_send_.payloader));
    GObjectPtr<GstPad> pad(pay ? gst_element_get_static_pad(pay.get(), "sink") : nullptr);
    if (pad) gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, KeyframeFrameNowCb, nullptr, nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    keyframe_pad_ = std::move(pad);
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
    // `send-caps` is reported once webrtcbin holds the caps: its sink pad stores them (received_caps,
    // what the offer's a=ssrc and profile-level-id come from) in its event function and only then
    // forwards the event to its internal side, where this probe sees it. Reported from our own bin's
    // pad, a description made in between had no a=ssrc.
    GObjectPtr<GstPad> sink(gst_pad_get_peer(src.get()));
    GObjectPtr<GstPad> inside(sink && GST_IS_GHOST_PAD(sink.get())
                                  ? GST_PAD(gst_proxy_pad_get_internal(GST_PROXY_PAD(sink.get())))
                                  : nullptr);
    if (!inside) {
      *error = {"ERR_PAD_REQUEST", "webrtcbin's sink pad is not a ghost pad: its stored caps cannot be watched", "webrtcbin"};
      return false;
    }
    gst_pad_add_probe(inside.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, CapsProbeCb, new WeakCore(weak_from_this()),
                      FreeWeakNotify);
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, TwccFeedbackCb, new WeakCore(weak_from_this()),
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

}  // namespace wrtc
