// src-native/rtp/: RTP header extensions we write ourselves.
#include "rtp/playout_delay.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>

namespace wrtc {

namespace {

// Adds the extension to one RTP packet (made writable first: the payloader may still hold a ref).
void Write(GstBuffer** buffer, uint32_t packed) {
  *buffer = gst_buffer_make_writable(*buffer);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(*buffer, GST_MAP_READWRITE, &rtp)) return;
  const guint8 payload[3] = {static_cast<guint8>(packed >> 16), static_cast<guint8>(packed >> 8), static_cast<guint8>(packed)};
  gst_rtp_buffer_add_extension_onebyte_header(&rtp, static_cast<guint8>(packed >> 24), payload, sizeof payload);
  gst_rtp_buffer_unmap(&rtp);
}

GstPadProbeReturn ProbeCb(GstPad*, GstPadProbeInfo* info, gpointer data) {
  uint32_t packed = static_cast<PlayoutDelayWriter::State*>(data)->packed.load(std::memory_order_relaxed);
  if (packed == 0) return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    Write(&buffer, packed);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    gst_buffer_list_foreach(
        list,
        [](GstBuffer** buffer, guint, gpointer packed_ptr) -> gboolean {
          Write(buffer, *static_cast<uint32_t*>(packed_ptr));
          return TRUE;
        },
        &packed);
    GST_PAD_PROBE_INFO_DATA(info) = list;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void PlayoutDelayWriter::Enable(GstPad* pad, int id, int min_ms, int max_ms) {
  // 12 bits each, in 10 ms units (the extension's wire format: MIN:12 MAX:12).
  auto units = [](int ms) { return static_cast<uint32_t>(std::clamp((ms + 5) / 10, 0, 0xfff)); };
  uint32_t packed = (static_cast<uint32_t>(id & 0x0f) << 24) | (units(min_ms) << 12) | units(max_ms);
  if (!probe_) {
    state_ = new State();
    pad_ = GObjectPtr<GstPad>::ref(pad);
    probe_ = gst_pad_add_probe(pad_.get(), static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), ProbeCb,
                               state_, [](gpointer state) { delete static_cast<State*>(state); });
  }
  state_->packed.store(packed);
}

void PlayoutDelayWriter::Disable() {
  if (!probe_) return;
  state_->packed.store(0);
  state_ = nullptr;
  gst_pad_remove_probe(pad_.get(), probe_);
  pad_.reset();
  probe_ = 0;
}

}  // namespace wrtc
