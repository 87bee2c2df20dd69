// GLib trampolines of one peer: the C callbacks GStreamer calls on its own threads. Each holds a weak
// reference to the core and forwards to a PeerCore method, so a signal that fires while the peer is
// being destroyed finds nothing to call. Internal to src-native/peer/.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <cstring>
#include <memory>
#include <string>

#include "peer/peer_core.h"
#include "rtp/twcc_feedback.h"
#include "x11/damage_src.h"  // NewFrameNowEvent

namespace wrtc {

namespace trampolines {

using WeakCore = std::weak_ptr<PeerCore>;

// Handlers hold a weak reference: a signal that fires while the peer is being destroyed finds
// nothing to call instead of a freed object.
inline std::shared_ptr<PeerCore> Lock(gpointer data) { return static_cast<WeakCore*>(data)->lock(); }
inline void FreeWeak(gpointer data, GClosure*) { delete static_cast<WeakCore*>(data); }

inline void NegotiationNeededCb(GstElement*, gpointer data) {
  if (auto core = Lock(data)) core->OnNegotiationNeeded();
}
inline void IceCandidateCb(GstElement*, guint mline, gchar* candidate, gpointer data) {
  if (auto core = Lock(data)) core->OnIceCandidate(mline, candidate);
}
inline void StateNotifyCb(GObject* object, GParamSpec* pspec, gpointer data) {
  if (auto core = Lock(data)) core->OnStateNotify(object, pspec);
}
inline void PadAddedCb(GstElement*, GstPad* pad, gpointer data) {
  if (auto core = Lock(data)) core->OnPadAdded(pad);
}
inline void DecodedPadCb(GstElement*, GstPad* pad, gpointer data) {
  if (auto core = Lock(data)) core->OnDecodedPad(pad);
}
inline void DataChannelCb(GstElement*, GstWebRTCDataChannel* channel, gpointer data) {
  if (auto core = Lock(data)) core->OnDataChannel(channel);
}

struct ChannelHandlerData {
  WeakCore core;
  uint64_t key;
};
inline void FreeChannelData(gpointer data, GClosure*) { delete static_cast<ChannelHandlerData*>(data); }
// `make(key)` builds the event for the channel with that key.
template <typename Make>
inline void PostChannel(gpointer data, Make make) {
  auto* d = static_cast<ChannelHandlerData*>(data);
  if (auto core = d->core.lock()) core->pipe.Post(make(d->key));
}
inline void ChannelOpenCb(GObject*, gpointer data) {
  PostChannel(data, [](uint64_t key) { return event::ChannelOpen{key}; });
}
inline void ChannelCloseCb(GObject*, gpointer data) {
  PostChannel(data, [](uint64_t key) { return event::ChannelClose{key}; });
}
inline void ChannelErrorCb(GObject*, GError* error, gpointer data) {
  PostChannel(data, [error](uint64_t key) {
    return event::ChannelError{key, error ? error->message : "data channel error"};
  });
}
inline void ChannelStringCb(GObject*, gchar* text, gpointer data) {
  PostChannel(data, [text](uint64_t key) { return event::ChannelMessage{key, text ? text : "", false}; });
}
inline void ChannelDataCb(GObject*, GBytes* bytes, gpointer data) {
  gsize size = 0;
  const char* raw = bytes ? static_cast<const char*>(g_bytes_get_data(bytes, &size)) : nullptr;
  PostChannel(data, [&](uint64_t key) { return event::ChannelMessage{key, std::string(raw ? raw : "", size), true}; });
}

struct PromiseData {
  WeakCore core;
  uint64_t id;
  const char* field;  // static string: which reply field holds the result ("offer", "answer", "stats")
};
inline void PromiseCb(GstPromise* promise, gpointer data) {
  auto* d = static_cast<PromiseData*>(data);
  if (auto core = d->core.lock()) core->OnPromise(promise, d->id, d->field);
}
inline void FreePromiseData(gpointer data) { delete static_cast<PromiseData*>(data); }

inline GstBusSyncReply BusSyncCb(GstBus*, GstMessage* message, gpointer data) {
  // No main loop reads this bus: everything goes to the event pipe. Returning DROP hands the message
  // to us, so it is ours to unref (each message holds a ref on its source element).
  MiniObjectPtr<GstMessage> owned(message);
  if (auto core = Lock(data)) core->OnBusMessage(message);
  return GST_BUS_DROP;
}
inline void FreeWeakNotify(gpointer data) { delete static_cast<WeakCore*>(data); }

inline GstFlowReturn NewSampleCb(GstAppSink* sink, gpointer data) {
  if (auto core = Lock(data)) return core->OnSample(GST_ELEMENT(sink));
  return GST_FLOW_OK;
}

inline GstPadProbeReturn HoldCb(GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; }

inline GstFlowReturn NewAudioSampleCb(GstAppSink* sink, gpointer data) {
  if (auto core = Lock(data)) return core->OnAudioSample(GST_ELEMENT(sink));
  return GST_FLOW_OK;
}

inline void FreeWeakEncoder(gpointer data) { delete static_cast<std::weak_ptr<SharedEncoder>*>(data); }
inline GstPadProbeReturn KeyframeRequestCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event)) return GST_PAD_PROBE_OK;
  if (auto encoder = static_cast<std::weak_ptr<SharedEncoder>*>(data)->lock()) encoder->RequestKeyframe();
  return GST_PAD_PROBE_DROP;
}

// Elements webrtcbin, rtpbin and decodebin create inside themselves, tuned as they join the pipeline: one
// deep-element-added handler on the pipeline sees every one (decodebin's children too), one function per
// kind it tunes.

// rtpjitterbuffer's rtx-next-seqnum (on by default with NACK) expects the packet after the last one at
// the stream's packet spacing, asks for it, and then declares it lost. A still screen (damage capture)
// sends nothing for seconds: the first packet after the pause then came "too late, already popped" and
// was dropped, and a receiving peer decoded no frame after it until a keyframe. Real gaps still get NACKs.
inline void TuneJitterBuffer(GstElement* element) { g_object_set(element, "rtx-next-seqnum", FALSE, nullptr); }

// A receiver that lost a packet asks for a keyframe (PLI) at once. Without it the decoder drops every
// frame that refers to the lost one until the sender's next periodic keyframe, and a shared encoder
// on a still screen encodes about one frame a second, so that keyframe can be a minute away: an
// agent's view frozen on a loaded machine. decodebin picks the depayloader, so it is set as it is added.
inline void TuneDepayloader(GstElement* element) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(element), "request-keyframe")) {
    g_object_set(element, "request-keyframe", TRUE, nullptr);
  }
}

// How long a sending peer keeps its packets for retransmission (ms). webrtcbin keeps 500 packets (2–3 s
// at 2 Mbit/s): after a start-up burst into a full uplink queue it retransmitted that backlog into the
// same queue, which read as ~80 % loss for 2–3 s. A packet asked for later than this would show its
// frame over half a second late: the receiver's keyframe request (PLI) serves it better.
constexpr guint kRetransmitHistoryMs = 500;
inline void TuneRetransmitter(GstElement* element) {
  g_object_set(element, "max-size-time", kRetransmitHistoryMs, nullptr);
  GST_INFO_OBJECT(element, "retransmission history: %u ms", kRetransmitHistoryMs);
}

inline void TuneElement(GstElement* element) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (!factory) return;
  const gchar* name = GST_OBJECT_NAME(factory);
  if (g_strcmp0(name, "rtpjitterbuffer") == 0) return TuneJitterBuffer(element);
  if (g_strcmp0(name, "rtprtxsend") == 0) return TuneRetransmitter(element);
  const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
  if (klass && strstr(klass, "Depayloader")) TuneDepayloader(element);
}

inline void TuneAddedElementCb(GstBin*, GstBin*, GstElement* element, gpointer) {
  TuneElement(element);
  // A bin that joins whole (webrtcbin's auxiliary sender, rtprtxsend inside, handed to rtpbin) brings
  // children no signal announced: they are tuned with it.
  if (GST_IS_BIN(element)) {
    GstIterator* children = gst_bin_iterate_recurse(GST_BIN(element));
    gst_iterator_foreach(
        children, [](const GValue* item, gpointer) { TuneElement(GST_ELEMENT(g_value_get_object(item))); }, nullptr);
    gst_iterator_free(children);
  }
}

// Our own encoder's keyframe request, seen on its way up from the payloader: a frame-now request goes
// on upstream from the encoder's input, so a damage capture on a still screen sends the frame the
// keyframe needs (other sources ignore it; the encoder passes on no keyframe request itself).
inline GstPadProbeReturn KeyframeFrameNowCb(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) return GST_PAD_PROBE_OK;
  GObjectPtr<GstPad> encoder_src(gst_pad_get_peer(pad));
  GObjectPtr<GstElement> encoder(encoder_src ? gst_pad_get_parent_element(encoder_src.get()) : nullptr);
  GObjectPtr<GstPad> encoder_sink(encoder ? gst_element_get_static_pad(encoder.get(), "sink") : nullptr);
  if (encoder_sink) {
    gst_pad_push_event(encoder_sink.get(), NewFrameNowEvent());
  }
  return GST_PAD_PROBE_OK;
}

// Reports the send caps webrtcbin now holds (the offer needs them: a=ssrc, H.264's profile-level-id).
inline GstPadProbeReturn CapsProbeCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    if (auto core = Lock(data)) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GCharPtr text(gst_caps_to_string(caps));
      core->pipe.Post(event::SendCaps{text.or_empty()});
    }
  }
  return GST_PAD_PROBE_OK;
}

// TWCC feedback rtpsession pushes upstream (rtp/twcc_feedback.h): handed to JS, not further upstream.
inline GstPadProbeReturn TwccFeedbackCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  std::vector<double> packets;
  if (!TwccPacketsFromEvent(GST_PAD_PROBE_INFO_EVENT(info), &packets)) return GST_PAD_PROBE_OK;
  if (!packets.empty()) {
    if (auto core = Lock(data)) core->pipe.Post(event::Twcc{std::move(packets)});
  }
  return GST_PAD_PROBE_DROP;
}

}  // namespace trampolines

}  // namespace wrtc
