// Transport-wide congestion control feedback, sender side. rtpsession (gst-plugins-good 1.22) numbers
// our packets when the send caps carry the transport-cc extmap, parses the receiver's TWCC RTCP into
// per-packet send and arrival times, and pushes them upstream from its send_rtp_sink as a custom event
// holding an "RTPTWCCPackets" structure. A probe on the send stream's pad (toward webrtcbin) reads it.
#pragma once

#include <gst/gst.h>

#include <vector>

namespace wrtc {

// The packets of one TWCC feedback event, four numbers each: transport-wide sequence number, send time
// (ms, our clock), arrival time (ms, the receiver's clock; NaN when reported lost or unknown), RTP
// payload bytes. False when `event` is not TWCC feedback.
bool TwccPacketsFromEvent(GstEvent* event, std::vector<double>* packets);

}  // namespace wrtc
