// A decoded frame handed to JS without a copy: it owns a GstSample ref and its mapped memory until
// the JS Buffer that points at it is garbage-collected.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/gobject_ptr.h"

namespace wrtc {

class MappedFrame {
 public:
  // Takes ownership of `sample` (a ref from gst_app_sink_pull_sample). Null when it cannot be mapped.
  static std::unique_ptr<MappedFrame> Adopt(GstSample* sample) {
    std::unique_ptr<MappedFrame> frame(new MappedFrame(sample));
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstCaps* caps = gst_sample_get_caps(sample);
    if (!buffer || !caps) return nullptr;
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    if (gst_structure_has_name(s, "video/x-raw")) {
      if (!gst_video_info_from_caps(&frame->info_, caps)) return nullptr;
    } else {
      // Compressed: video/x-vp8 → "VP8"; the size is known only when the caps carry it.
      const gchar* name = gst_structure_get_name(s);
      frame->encoded_format_ = g_ascii_strup(g_str_has_prefix(name, "video/x-") ? name + 8 : name, -1);
      gst_structure_get_int(s, "width", &frame->encoded_width_);
      gst_structure_get_int(s, "height", &frame->encoded_height_);
      frame->keyframe_ = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    }
    if (!gst_buffer_map(buffer, &frame->map_, GST_MAP_READ)) return nullptr;
    frame->mapped_ = true;
    frame->pts_ = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    return frame;
  }
  ~MappedFrame() {
    if (mapped_) gst_buffer_unmap(gst_sample_get_buffer(sample_.get()), &map_);
    g_free(encoded_format_);
  }
  MappedFrame(const MappedFrame&) = delete;
  MappedFrame& operator=(const MappedFrame&) = delete;

  uint8_t* data() const { return map_.data; }
  size_t size() const { return map_.size; }
  bool encoded() const { return encoded_format_ != nullptr; }
  bool keyframe() const { return keyframe_; }
  int width() const { return encoded() ? encoded_width_ : GST_VIDEO_INFO_WIDTH(&info_); }
  int height() const { return encoded() ? encoded_height_ : GST_VIDEO_INFO_HEIGHT(&info_); }
  int stride() const { return encoded() ? 0 : GST_VIDEO_INFO_PLANE_STRIDE(&info_, 0); }
  std::string format() const {
    return encoded() ? encoded_format_ : gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info_));
  }
  int64_t pts() const { return pts_; }
  // The sender's capture instant (Unix µs, its clock) from abs-capture-time; -1 when none came.
  int64_t capture_us() const { return capture_us_; }
  void set_capture_us(int64_t us) { capture_us_ = us; }

 private:
  explicit MappedFrame(GstSample* sample) : sample_(sample) { gst_video_info_init(&info_); }
  MiniObjectPtr<GstSample> sample_;
  GstMapInfo map_{};
  GstVideoInfo info_{};
  bool mapped_ = false;
  int64_t pts_ = -1;
  int64_t capture_us_ = -1;
  gchar* encoded_format_ = nullptr;  // set for compressed frames
  int encoded_width_ = 0;
  int encoded_height_ = 0;
  bool keyframe_ = true;
};

}  // namespace wrtc
