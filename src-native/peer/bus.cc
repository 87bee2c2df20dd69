// src-native/peer/: one WebRTC peer: the NativePeer ObjectWrap (peer_wrap) over PeerCore, split by concept.
// The pipeline bus, read without a main loop: errors, warnings, EOS and latency become events.
#include "peer/peer_core.h"

#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

namespace {

std::string ElementName(GstObject* object) {
  if (!object) return {};
  GCharPtr name(gst_object_get_name(object));
  return name.or_empty();
}

}  // namespace

void PeerCore::OnBusMessage(GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      bool is_error = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
      GError* err = nullptr;
      gchar* debug = nullptr;
      if (is_error) gst_message_parse_error(message, &err, &debug);
      else gst_message_parse_warning(message, &err, &debug);
      event::BusMessage fields;
      fields.source = ElementName(GST_MESSAGE_SRC(message));
      if (err) {
        fields.domain = g_quark_to_string(err->domain);
        fields.code = err->code;
        fields.message = err->message;
      }
      fields.debug = debug ? debug : "";
      if (is_error) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (start_cause_.message.empty()) start_cause_ = StartCause(message, fields);
      }
      if (err) g_error_free(err);
      g_free(debug);
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
