// Plain data carried from GStreamer threads to the JS thread: one struct per kind of event, never a
// GObject or a napi value (a GStreamer thread fills one in, posts it and returns without waiting for
// JS). Each struct's `kType` and fields are, name for name, one member of the TypeScript union
// `NativeEvent` in lib/native/binding.ts; PromiseReply is the one that is not an event (it settles
// the promise of request `id`).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/bus_event.h"

namespace wrtc {

namespace event {

// webrtcbin on-negotiation-needed.
struct NegotiationNeeded {
  static constexpr const char* kType = "negotiation-needed";
};
// on-ice-candidate; an empty candidate is webrtcbin's end-of-candidates.
struct IceCandidate {
  static constexpr const char* kType = "ice-candidate";
  uint32_t mline = 0;
  std::string candidate;
};
// notify::*-state: the property's name and its W3C nick.
struct State {
  static constexpr const char* kType = "state";
  std::string name;
  std::string value;
};
struct Eos {
  static constexpr const char* kType = "eos";
};
// Bus LATENCY: the JS side asks the pipeline to recalculate.
struct Latency {
  static constexpr const char* kType = "latency";
};
// The encoder's RTP caps reached webrtcbin.
struct SendCaps {
  static constexpr const char* kType = "send-caps";
  std::string caps;
};
// One transport-wide congestion control feedback: four numbers a packet (rtp/twcc_feedback.h).
struct Twcc {
  static constexpr const char* kType = "twcc";
  std::vector<double> packets;
};
// Decoded remote audio, interleaved PCM; pts in ns, -1 when unknown.
struct Audio {
  static constexpr const char* kType = "audio";
  std::string data;
  int32_t sampleRate = 0;
  int32_t channels = 0;
  std::string format;
  int64_t pts = -1;
};
// A remote media stream appeared: kind "video" | "audio", its RTP encoding name.
struct Track {
  static constexpr const char* kType = "track";
  std::string kind;
  std::string encoding;
};
// A frame waits in the core's latest-frame slot. It carries no pixels: delivery takes the newest
// frame from the slot and the JS event gets its fields (see the convention in peer_wrap.h).
struct Frame {
  static constexpr const char* kType = "frame";
};
// The remote peer opened a data channel; `channel` is our key for it, `readyState` its state once
// our handlers were on (an "open" here means its on-open came before: no channel-open follows).
struct DataChannel {
  static constexpr const char* kType = "data-channel";
  uint64_t channel = 0;
  std::string label;
  std::string readyState;
};
struct ChannelOpen {
  static constexpr const char* kType = "channel-open";
  uint64_t channel = 0;
};
struct ChannelClose {
  static constexpr const char* kType = "channel-close";
  uint64_t channel = 0;
};
struct ChannelError {
  static constexpr const char* kType = "channel-error";
  uint64_t channel = 0;
  std::string message;
};
// The channel's ready-state became "closing" (the remote reset its stream, or our close() began).
struct ChannelClosing {
  static constexpr const char* kType = "channel-closing";
  uint64_t channel = 0;
};
// on-buffered-amount-low: buffered-amount fell to buffered-amount-low-threshold or below.
struct ChannelBufferedAmountLow {
  static constexpr const char* kType = "channel-buffered-amount-low";
  uint64_t channel = 0;
};
// `binary`: the data becomes a Buffer, else a string.
struct ChannelMessage {
  static constexpr const char* kType = "channel-message";
  uint64_t channel = 0;
  std::string data;
  bool binary = false;
};
// A GstPromise settled: `value` (SDP, stats JSON, or empty) when ok, else `message`.
struct PromiseReply {
  uint64_t id = 0;
  bool ok = true;
  std::string value;
  std::string message;
};

}  // namespace event

using PeerEvent = std::variant<event::NegotiationNeeded, event::IceCandidate, event::State, event::BusError,
                               event::BusWarning, event::Eos, event::Latency, event::SendCaps, event::Audio,
                               event::Track, event::Frame, event::DataChannel, event::ChannelOpen,
                               event::ChannelClose, event::ChannelError, event::ChannelMessage,
                               event::ChannelClosing, event::ChannelBufferedAmountLow, event::Twcc, event::PromiseReply>;

}  // namespace wrtc
