// The damage source's kept frame: the screen as last read (BGRx, pristine: never drawn on) and, when
// downstream takes I420, the converted picture with the pointer drawn in, updated only in the rows
// that changed. A change converts the 16-row chunks its rows fall in (GstVideoConverter, the converter
// videoconvert itself uses, so the picture is the same as converting the whole frame); the pointer is
// drawn on a scratch copy of its band before that band is converted, so it leaves no trail; a refresh
// pushes the kept frame without reading or converting anything.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <vector>

namespace wrtc {

// The pointer's picture as XFixes gives it (premultiplied ARGB) and where it lands in the frame.
struct PointerImage {
  bool shown = false;
  int left = 0, top = 0;  // the image's top left corner in frame coordinates (may be negative)
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;
  bool operator==(const PointerImage& o) const {
    return shown == o.shown && (!shown || (left == o.left && top == o.top && width == o.width && height == o.height &&
                                           pixels == o.pixels));
  }
};

// Draws `p` onto the BGRx rows [y0, y0 + rows) of a frame `width` wide (row 0 of `data` is frame row y0).
void DrawPointer(const PointerImage& p, uint8_t* data, size_t stride, int width, int y0, int rows);

class FrameStore {
 public:
  FrameStore() = default;
  ~FrameStore() { Clear(); }
  FrameStore(const FrameStore&) = delete;
  FrameStore& operator=(const FrameStore&) = delete;

  // A new size or output: everything is converted again at the next Update(). `i420` null: downstream
  // takes BGRx, and each output is a copy of the screen with the pointer drawn.
  void Reset(int width, int height, const GstVideoInfo* i420);
  void Clear();

  // The rows [y0, y1) of the screen copy changed (frame coordinates; clipped, kept per 2-row band).
  void MarkRows(int y0, int y1);
  void MarkAll() { MarkRows(0, height_); }
  // The pointer as it is now: its old and new bands are marked when it moved, changed or was hidden.
  void SetPointer(const PointerImage& p);

  // Brings the kept frame up to date with the screen copy `bgrx` (stride width * 4) and returns a new
  // buffer of it (no pixels copied for I420: the kept memory, shared until the next change writes it,
  // which then copies it first if downstream still holds it). Null if memory ran out.
  GstBuffer* Update(const uint8_t* bgrx);
  // The last frame Update() returned, again: the refresh and refinement frames. Null before the first.
  GstBuffer* Again() const;

  bool i420() const { return i420_; }
  // Rows converted by the last Update(): what a test and the bench look at.
  int rows_converted() const { return rows_converted_; }

 private:
  void ConvertBand(const uint8_t* bgrx, uint8_t* out, int y0, int y1);
  void ConvertRows(const uint8_t* src, size_t src_stride, uint8_t* out, int y, int rows);
  GstVideoConverter* ConverterFor(int rows);

  int width_ = 0, height_ = 0;
  bool i420_ = false;
  GstVideoInfo out_info_{};
  std::vector<uint8_t> dirty_;  // one flag per 2-row band
  PointerImage pointer_;
  // I420 memories of this size, one ref each: kept_ is one of them (the picture); a memory no one
  // else holds (refcount 1) is free to become the next picture, so a change allocates nothing.
  std::vector<GstMemory*> pool_;
  GstMemory* kept_ = nullptr;
  GstMemory* FreeMemory();
  GstMemory* bgrx_last_ = nullptr;  // BGRx out: the last frame's memory (a ref), for Again()
  std::vector<uint8_t> scratch_;  // a band's BGRx with the pointer drawn on it
  // BT.601 converters: one for the whole frame, one for the chunks a band is cut into.
  GstVideoConverter* whole_ = nullptr;
  GstVideoConverter* chunk_ = nullptr;
  int rows_converted_ = 0;
};

}  // namespace wrtc
