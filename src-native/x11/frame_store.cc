#include "x11/frame_store.h"

#include <algorithm>
#include <cstring>

namespace wrtc {

namespace {

// A band is converted in chunks of this many rows: converters have a fixed size, and a chunk is small
// enough that the pointer's scratch copy stays in cache.
constexpr int kChunkRows = 16;

// Converters with videoconvert's own defaults (linear chroma resampling, no dithering at 8 bits, one
// thread), so a band converted here is what videoconvert makes of the same rows in a whole frame.
GstVideoConverter* NewConverter(int width, int rows, const GstVideoInfo& out) {
  GstVideoInfo in_info, out_info;
  gst_video_info_set_format(&in_info, GST_VIDEO_FORMAT_BGRx, width, rows);
  gst_video_info_set_format(&out_info, GST_VIDEO_FORMAT_I420, width, rows);
  out_info.colorimetry = out.colorimetry;
  out_info.chroma_site = out.chroma_site;
  return gst_video_converter_new(&in_info, &out_info, nullptr);
}

}  // namespace

void DrawPointer(const PointerImage& p, uint8_t* data, size_t stride, int width, int y0, int rows) {
  if (!p.shown) return;
  int first = std::max(p.top, y0), end = std::min(p.top + p.height, y0 + rows);
  for (int y = first; y < end; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + size_t(y - y0) * stride);
    const uint32_t* src = p.pixels.data() + size_t(y - p.top) * p.width;
    for (int i = std::max(0, -p.left); i < p.width && p.left + i < width; ++i) {
      uint32_t s = src[i];
      uint32_t a = s >> 24;
      if (a == 0) continue;
      uint32_t d = row[p.left + i];
      uint32_t out = 0;
      for (int shift = 0; shift < 24; shift += 8) {  // premultiplied: s + d * (1 - a)
        uint32_t sc = (s >> shift) & 0xff, dc = (d >> shift) & 0xff;
        out |= std::min<uint32_t>(255, sc + dc * (255 - a) / 255) << shift;
      }
      row[p.left + i] = out;
    }
  }
}

void FrameStore::Clear() {
  for (GstMemory* m : pool_) gst_memory_unref(m);
  pool_.clear();
  kept_ = nullptr;
  if (bgrx_last_) gst_memory_unref(bgrx_last_);
  bgrx_last_ = nullptr;
  for (GstVideoConverter** c : {&whole_, &chunk_}) {
    if (*c) gst_video_converter_free(*c);
    *c = nullptr;
  }
  width_ = height_ = 0;
  dirty_.clear();
}

void FrameStore::Reset(int width, int height, const GstVideoInfo* i420) {
  Clear();
  width_ = width;
  height_ = height;
  i420_ = i420 != nullptr;
  if (i420_) out_info_ = *i420;
  scratch_.assign(size_t(width) * 4 * kChunkRows, 0);
  dirty_.assign(size_t(height + 1) / 2, 1);
}

void FrameStore::MarkRows(int y0, int y1) {
  y0 = std::max(0, y0);
  y1 = std::min(height_, y1);
  for (int band = y0 / 2; band * 2 < y1; ++band) dirty_[band] = 1;
}

void FrameStore::SetPointer(const PointerImage& p) {
  if (p == pointer_) return;
  if (pointer_.shown) MarkRows(pointer_.top, pointer_.top + pointer_.height);
  if (p.shown) MarkRows(p.top, p.top + p.height);
  pointer_ = p;
}

GstVideoConverter* FrameStore::ConverterFor(int rows) {
  GstVideoConverter** slot = rows == height_ ? &whole_ : &chunk_;
  if (!*slot) *slot = NewConverter(width_, rows, out_info_);
  return *slot;
}

// Converts `rows` rows of BGRx at `src` into rows [y, y + rows) of the I420 picture at `out`: the
// frames handed to the converter are views into the full-size planes (their strides, offset pointers).
void FrameStore::ConvertRows(const uint8_t* src, size_t src_stride, uint8_t* out, int y, int rows) {
  GstVideoFrame in{}, to{};
  gst_video_info_set_format(&in.info, GST_VIDEO_FORMAT_BGRx, width_, rows);
  in.info.stride[0] = int(src_stride);
  in.data[0] = const_cast<uint8_t*>(src);
  to.info = out_info_;
  to.info.height = rows;
  for (guint p = 0; p < 3; ++p) {
    int plane_y = p == 0 ? y : y / 2;
    to.data[p] = out + out_info_.offset[p] + size_t(plane_y) * out_info_.stride[p];
  }
  gst_video_converter_frame(ConverterFor(rows), &in, &to);
  rows_converted_ += rows;
}

void FrameStore::ConvertBand(const uint8_t* bgrx, uint8_t* out, int y0, int y1) {
  size_t stride = size_t(width_) * 4;
  if (height_ < kChunkRows) {
    y0 = 0;
    y1 = height_;
  }
  int py0 = std::max(0, pointer_.top) & ~1, py1 = std::min(height_, pointer_.top + pointer_.height + 1) & ~1;
  for (int y = y0; y < y1; y += kChunkRows) {
    // Whole chunks only: a band's last one moves up over rows already converted (converted again from
    // the same screen copy: the same result). A converter of fewer rows, called again, reuses lines its
    // cache kept from the call before (GStreamer 1.22's line cache keys them by row number only).
    int rows = std::min(kChunkRows, height_);
    int top = std::min(y, height_ - rows);
    if (pointer_.shown && top < py1 && top + rows > py0) {
      // The pointer goes on a copy: the screen copy stays as the screen is, so no trail is left.
      memcpy(scratch_.data(), bgrx + size_t(top) * stride, size_t(rows) * stride);
      DrawPointer(pointer_, scratch_.data(), stride, width_, top, rows);
      ConvertRows(scratch_.data(), stride, out, top, rows);
    } else {
      ConvertRows(bgrx + size_t(top) * stride, stride, out, top, rows);
    }
  }
}

GstBuffer* FrameStore::Update(const uint8_t* bgrx) {
  rows_converted_ = 0;
  size_t stride = size_t(width_) * 4;
  if (!i420_) {
    // BGRx out: a copy of the screen with the pointer on it (a new memory each frame).
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, stride * height_, nullptr);
    if (!buffer) return nullptr;
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    memcpy(map.data, bgrx, stride * height_);
    DrawPointer(pointer_, map.data, stride, width_, 0, height_);
    gst_buffer_unmap(buffer, &map);
    if (bgrx_last_) gst_memory_unref(bgrx_last_);
    bgrx_last_ = gst_memory_ref(gst_buffer_peek_memory(buffer, 0));
    std::fill(dirty_.begin(), dirty_.end(), 0);
    return buffer;
  }
  bool all = std::all_of(dirty_.begin(), dirty_.end(), [](uint8_t d) { return d != 0; });
  bool any = all || std::any_of(dirty_.begin(), dirty_.end(), [](uint8_t d) { return d != 0; });
  if (any && (!kept_ || GST_MINI_OBJECT_REFCOUNT_VALUE(kept_) > 1)) {
    // Downstream still holds the last frame (the encoder, the shared encoder's identical-frame check):
    // it must not change under them. The next picture goes in a memory nobody holds, a copy of the
    // last one unless every row is converted anew.
    GstMemory* next = FreeMemory();
    if (!next) return nullptr;
    if (kept_ && !all) {
      GstMapInfo from, to;
      gst_memory_map(kept_, &from, GST_MAP_READ);
      gst_memory_map(next, &to, GST_MAP_WRITE);
      memcpy(to.data, from.data, out_info_.size);
      gst_memory_unmap(next, &to);
      gst_memory_unmap(kept_, &from);
    }
    kept_ = next;
  }
  if (any) {
    GstMapInfo map;
    gst_memory_map(kept_, &map, GST_MAP_WRITE);
    if (all) {
      // The first frame, a resize, a full read: one pass over the whole frame (as fast as videoconvert),
      // then the pointer's band again with the pointer on it.
      ConvertRows(bgrx, stride, map.data, 0, height_);
      std::fill(dirty_.begin(), dirty_.end(), 0);
      if (pointer_.shown) MarkRows(pointer_.top, pointer_.top + pointer_.height);
    }
    for (size_t band = 0; band < dirty_.size();) {
      if (!dirty_[band]) {
        ++band;
        continue;
      }
      size_t end = band;
      while (end < dirty_.size() && dirty_[end]) dirty_[end++] = 0;
      ConvertBand(bgrx, map.data, int(band) * 2, std::min(height_, int(end) * 2));
      band = end;
    }
    gst_memory_unmap(kept_, &map);
  }
  return Again();
}

GstBuffer* FrameStore::Again() const {
  GstMemory* last = i420_ ? kept_ : bgrx_last_;
  if (!last) return nullptr;
  GstBuffer* buffer = gst_buffer_new();
  gst_buffer_append_memory(buffer, gst_memory_ref(last));
  return buffer;
}

GstMemory* FrameStore::FreeMemory() {
  for (GstMemory* m : pool_) {
    if (m != kept_ && GST_MINI_OBJECT_REFCOUNT_VALUE(m) == 1) return m;
  }
  GstMemory* m = gst_allocator_alloc(nullptr, out_info_.size, nullptr);
  if (m) pool_.push_back(m);  // as many as downstream holds at once (the encoder's few)
  return m;
}

}  // namespace wrtc
