// Runtime video bitrate: finds the video encoder inside a bin (a peer's media bin or a shared
// encoder's bin) and reads or sets its target bitrate in the unit that encoder uses.
#pragma once

#include <gst/gst.h>

namespace wrtc {

// kbit/s → the encoder's property (vp8enc/vp9enc target-bitrate: bit/s; x264enc bitrate: kbit/s;
// openh264enc bitrate: bit/s). All of them apply a change while PLAYING. Returns the kbit/s now set,
// or -1 when the bin holds no encoder we know.
int SetEncoderBitrate(GstElement* bin, int kbps);
// The encoder's current target in kbit/s, or -1.
int GetEncoderBitrate(GstElement* bin);

}  // namespace wrtc
