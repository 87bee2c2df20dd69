// The receive path: recv-only transceivers, and a decoder chain for each remote stream webrtcbin adds.
#include "peer/peer_core.h"

#include <gst/app/gstappsink.h>

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

bool PeerCore::SetReceivePreferences(const std::string& caps_text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!receive_transceiver_) return false;
  GstCaps* caps = gst_caps_from_string(caps_text.c_str());
  if (!caps) return false;
  g_object_set(receive_transceiver_.get(), "codec-preferences", caps, nullptr);
  gst_caps_unref(caps);
  return true;
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
  event::Track track;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (caps) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    const gchar* media = gst_structure_get_string(s, "media");
    const gchar* encoding = gst_structure_get_string(s, "encoding-name");
    track.kind = media ? media : "";
    track.encoding = encoding ? encoding : "";
    gst_caps_unref(caps);
  }
  // Encoded access: depayload only, hand the compressed frames to JS.
  if (config_.receiveEncoded && track.kind == "video") {
    std::string depay;
    if (track.encoding == "VP8") depay = "rtpvp8depay";
    else if (track.encoding == "VP9") depay = "rtpvp9depay";
    else if (track.encoding == "H264") depay = "rtph264depay ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au";
    if (!depay.empty()) {
      std::string description = "queue ! " + depay + " ! appsink name=frames sync=false max-buffers=0 drop=false";
      GstElement* tail = SinkBin(description, "frames", NewSampleCb);
      if (tail) {
        gst_bin_add(GST_BIN(pipeline_.get()), tail);
        gst_element_sync_state_with_parent(tail);
        GObjectPtr<GstPad> tail_sink(gst_element_get_static_pad(tail, "sink"));
        gst_pad_link(pad, tail_sink.get());
        pipe.Post(std::move(track));
        return;
      }
    }
  }
  // Runs on a streaming thread: elements may be added to a playing bin here, then synced to it.
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

}  // namespace wrtc
