// src-native/peer/: one WebRTC peer: the NativePeer ObjectWrap (peer_wrap) over PeerCore, split by concept.
// The pipeline bus, read without a main loop: errors, warnings, EOS and latency become events.
#include "peer/peer_core.h"

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

void PeerCore::OnBusMessage(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      bool is_error = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
      event::BusMessage fields = event::ReadBusMessage(message);
      if (is_error) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (start_cause_.message.empty()) start_cause_ = StartCause(message, fields);
      }
      if (is_error) pipe.Post(event::BusError{std::move(fields)});
      else pipe.Post(event::BusWarning{std::move(fields)});
      break;
    }
    case GST_MESSAGE_EOS:
      pipe.Post(event::Eos{});
      break;
    case GST_MESSAGE_LATENCY:
      pipe.Post(event::Latency{});
      break;
    default:
      break;
  }
}

void PeerCore::RecalculateLatency() {
  if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
}

}  // namespace wrtc
