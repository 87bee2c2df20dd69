// The send path: media bins parsed from lib/media/send.ts descriptions, held until negotiation
// starts, linked to webrtcbin transceivers; payload types, playout delay, abs-capture-time.
#include "peer/peer_core.h"

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

// A gst-launch fragment as a bin named `name` inside the pipeline (its one unlinked src pad ghosted
// when `ghost_src`).
GstElement* PeerCore::ParseBin(const std::string& description, const char* name, const char* what,
                               bool ghost_src, NativeError* error) {
  GstElement* bin = ParseDescription(description, what, ghost_src, error);
  if (!bin) return nullptr;
  gst_object_set_name(GST_OBJECT(bin), name);
  gst_bin_add(GST_BIN(pipeline_.get()), bin);
  return bin;
}

// Blocks the encoded stream before the payloader (or at the bin's src pad without one) until
// ReleaseMedia(). Returns the bin's src pad (a new reference), or null when it has none.
GstPad* PeerCore::Hold(SendStream& stream) {
  GObjectPtr<GstPad> src(gst_element_get_static_pad(stream.bin, "src"));
  if (!src) return nullptr;
  GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(stream.bin), stream.payloader));
  stream.hold_pad = pay ? GObjectPtr<GstPad>(gst_element_get_static_pad(pay.get(), "sink")) : GObjectPtr<GstPad>::ref(src.get());
  stream.hold_probe = gst_pad_add_probe(stream.hold_pad.get(), GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, HoldCb, nullptr, nullptr);
  return src.release();
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
    MiniObjectPtr<GstCaps> caps = caps_text.empty() ? MiniObjectPtr<GstCaps>() : CapsFromString(caps_text);
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
    if (caps) g_object_set(transceiver, "codec-preferences", caps.get(), nullptr);
    // Retransmission is for video; browsers refuse an RTX group on audio (Opus conceals instead).
    if (config_.nack && &stream == &video_send_) g_object_set(transceiver, "do-nack", TRUE, nullptr);
    if (config_.fecPercentage > 0 && &stream == &video_send_) {
      gst_util_set_object_arg(G_OBJECT(transceiver), "fec-type", "ulp-red");
      g_object_set(transceiver, "fec-percentage", static_cast<guint>(config_.fecPercentage), nullptr);
    }
  }
  GstPadLinkReturn link = gst_pad_link(src, sink.get());
  if (link != GST_PAD_LINK_OK) {
    *error = {"ERR_PAD_REQUEST", std::string("could not link the source to webrtcbin: ") + gst_pad_link_get_name(link),
              "webrtcbin"};
    return false;
  }
  return true;
}

bool PeerCore::SetSendPayloadType(bool audio, int payload_type, const std::string& preferences) {
  std::lock_guard<std::mutex> lock(mutex_);
  SendStream& stream = audio ? audio_send_ : video_send_;
  if (!stream.bin || !stream.hold_pad) return false;  // media already flows: its caps are fixed
  // The payloader has not negotiated yet (its input is held), so the new pt is simply used when it
  // does; webrtcbin then sees caps that match the remote offer's entry.
  GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(stream.bin), stream.payloader));
  if (pay) g_object_set(pay.get(), "pt", static_cast<guint>(payload_type), nullptr);
  MiniObjectPtr<GstCaps> caps = CapsFromString(preferences);
  if (stream.transceiver && caps) g_object_set(stream.transceiver.get(), "codec-preferences", caps.get(), nullptr);
  return static_cast<bool>(pay);
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

bool PeerCore::EnableAbsCaptureTime(int id) {
  if (id < 1 || id > 14) return false;
  abs_capture_reader_.SetId(id);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!video_send_.bin || !video_send_.payloader) return false;
  // Capture instants are taken where encoded frames enter the payloader, written where RTP leaves "rtpcaps".
  GObjectPtr<GstElement> pay(gst_bin_get_by_name(GST_BIN(video_send_.bin), video_send_.payloader));
  GObjectPtr<GstElement> caps(gst_bin_get_by_name(GST_BIN(video_send_.bin), "rtpcaps"));
  if (!pay || !caps) return false;
  GObjectPtr<GstPad> frames(gst_element_get_static_pad(pay.get(), "sink"));
  GObjectPtr<GstPad> rtp(gst_element_get_static_pad(caps.get(), "src"));
  if (!frames || !rtp) return false;
  abs_capture_writer_.Enable(frames.get(), rtp.get(), id);
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
  // Only now does a shared encoder start feeding this peer (from a keyframe it asks for, through the
  // start gate until the connection is up).
  if (config_.encoder && encoder_src_) {
    config_.encoder->Subscribe(reinterpret_cast<uintptr_t>(this), encoder_src_.get(), start_gate_);
  }
}

}  // namespace wrtc
