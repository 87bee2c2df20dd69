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
      Event event{is_error ? EventType::BusError : EventType::BusWarning};
      event.name = ElementName(GST_MESSAGE_SRC(message));
      if (err) {
        event.domain = g_quark_to_string(err->domain);
        event.code = err->code;
        event.message = err->message;
      }
      event.debug = debug ? debug : "";
      if (is_error) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = event.name + ": " + event.message;
      }
      if (err) g_error_free(err);
      g_free(debug);
      pipe.Post(std::move(event));
      break;
    }
    case GST_MESSAGE_EOS:
      pipe.Post(Event{EventType::Eos});
      break;
    case GST_MESSAGE_LATENCY:
      pipe.Post(Event{EventType::Latency});
      break;
    default:
      break;
  }
}

void PeerCore::RecalculateLatency() {
  if (pipeline_) gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
}

}  // namespace wrtc
