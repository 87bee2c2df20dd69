// Plain data carried from GStreamer threads to the JS thread. Never holds a GObject or a napi value:
// a GStreamer thread fills it in, hands it to the event pipe and returns without waiting for JS.
#pragma once

#include <cstdint>
#include <string>

namespace wrtc {

enum class EventType {
  NegotiationNeeded,  // webrtcbin on-negotiation-needed
  IceCandidate,       // on-ice-candidate: mline, text
  StateChange,        // notify::*-state: name (property), text (W3C nick)
  PromiseReply,       // a GstPromise settled: id, ok, text (SDP / stats JSON) or message
  BusError,           // bus ERROR: name (element), domain, code, message, debug
  BusWarning,         // bus WARNING: same fields
  Eos,                // bus EOS
  Latency,            // bus LATENCY: the JS side asks the pipeline to recalculate
  Track,              // a remote media stream appeared: mline, name (media kind), text (encoding)
  Frame,              // a decoded remote frame: width, height, pts
  DataChannel,        // remote peer opened a data channel: id (channel key), name (label)
  ChannelOpen,        // id
  ChannelClose,       // id
  ChannelError,       // id, message
  ChannelMessage,     // id, text, binary flag
  SendCaps,           // the encoder's RTP caps reached webrtcbin: text (caps string)
  Audio,              // decoded remote audio: text (PCM bytes), width (rate), height (channels), name (format), pts
};

struct Event {
  explicit Event(EventType t) : type(t) {}
  EventType type;
  std::string name;
  std::string text;
  std::string domain;
  std::string message;
  std::string debug;
  uint64_t id = 0;
  uint32_t mline = 0;
  int32_t code = 0;
  bool ok = true;
  bool binary = false;
  int32_t width = 0;
  int32_t height = 0;
  int64_t pts = -1;
};

}  // namespace wrtc
