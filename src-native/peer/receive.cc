// The receive path: recv-only transceivers, and a decoder chain for each remote stream webrtcbin adds.
#include "peer/peer_core.h"

#include <gst/app/gstappsink.h>

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

bool PeerCore::SetReceivePreferences(const std::string& caps_text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!receive_transceiver_) return false;
  MiniObjectPtr<GstCaps> caps(gst_caps_from_string(caps_text.c_str()));
  if (!caps) return false;
  g_object_set(receive_transceiver_.get(), "codec-preferences", caps.get(), nullptr);
  return true;
}

// A receive tail from lib/media/receive.ts (its sink pad ghosted) whose appsink `sink_name` calls
// `on_sample` with a weak ref to us. Runs on a streaming thread: a failure becomes a bus-error event.
GstElement* PeerCore::SinkBin(const std::string& description, const char* sink_name,
                              GstFlowReturn (*on_sample)(GstAppSink*, gpointer)) {
  NativeError error;
  GstElement* tail = ParseDescription(description, "receive", true, &error);
  GObjectPtr<GstElement> sink(tail ? gst_bin_get_by_name(GST_BIN(tail), sink_name) : nullptr);
  if (!sink || !GST_IS_APP_SINK(sink.get())) {
    if (tail) {
      GObjectPtr<GstElement> unused(GST_ELEMENT(gst_object_ref_sink(tail)));  // floating: ours to drop
      error = {"ERR_PIPELINE", std::string("invalid receive pipeline: no appsink named '") + sink_name + "'", ""};
    }
    event::BusError failed;
    failed.source = error.element;
    failed.message = error.message;
    failed.domain = error.code == "ERR_MISSING_PLUGIN" ? "missing-plugin" : "pipeline";
    pipe.Post(std::move(failed));
    return nullptr;
  }
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, new WeakCore(weak_from_this()), FreeWeakNotify);
  return tail;
}

// A tail added to the playing pipeline and linked to `pad` (elements may be added to a playing bin
// on a streaming thread, then synced to it).
void PeerCore::AttachTail(GstPad* pad, GstElement* tail) {
  gst_bin_add(GST_BIN(pipeline_.get()), tail);
  gst_element_sync_state_with_parent(tail);
  GObjectPtr<GstPad> sink(gst_element_get_static_pad(tail, "sink"));
  gst_pad_link(pad, sink.get());
}

void PeerCore::OnPadAdded(GstPad* pad) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC || closing_) return;
  event::Track track;
  MiniObjectPtr<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (caps) {
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    const gchar* media = gst_structure_get_string(s, "media");
    const gchar* encoding = gst_structure_get_string(s, "encoding-name");
    track.kind = media ? media : "";
    track.encoding = encoding ? encoding : "";
  }
  // The RTP still carries its header extensions here: the capture instants of the frames to come.
  if (track.kind == "video") abs_capture_reader_.Watch(pad);
  // Encoded access: the depayloading tail planned for this encoding; others are decoded.
  auto encoded = config_.receiveEncodedDescriptions.find(track.encoding);
  if (track.kind == "video" && encoded != config_.receiveEncodedDescriptions.end()) {
    GstElement* tail = SinkBin(encoded->second, "frames", NewSampleCb);
    if (tail) {
      AttachTail(pad, tail);
      pipe.Post(std::move(track));
      return;
    }
  }
  // decodebin is the one element named here: its src pads (one per decoded stream, caps known only
  // then) appear later, so it cannot be a parsed bin with a ghosted src; OnDecodedPad adds the tails.
  GstElement* decode = gst_element_factory_make("decodebin", nullptr);
  if (!decode) {
    event::BusError missing;
    missing.source = "decodebin";
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
  pipe.Post(std::move(track));
}

void PeerCore::OnDecodedPad(GstPad* pad) {
  if (closing_) return;
  MiniObjectPtr<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const gchar* name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  bool video = g_str_has_prefix(name, "video/");
  bool audio = g_str_has_prefix(name, "audio/");

  GstElement* tail = nullptr;
  if (video && !config_.receiveVideoDescription.empty()) {
    tail = SinkBin(config_.receiveVideoDescription, "frames", NewSampleCb);
  } else if (audio && !config_.receiveAudioDescription.empty()) {
    tail = SinkBin(config_.receiveAudioDescription, "audio", NewAudioSampleCb);
  } else {
    // A stream nothing was planned for is consumed and discarded: left unlinked, decodebin's
    // not-linked flow would stop the streams that were planned.
    tail = gst_element_factory_make("fakesink", nullptr);
    if (tail) g_object_set(tail, "async", FALSE, "sync", FALSE, nullptr);
  }
  if (!tail) return;
  AttachTail(pad, tail);
}

}  // namespace wrtc
