// A pipeline's bus ERROR or WARNING as event payloads, shared by every class whose pipeline has a bus
// (the peer, the shared encoder): the same fields reach JS as `{type: 'bus-error' | 'bus-warning',
// source, domain, code, message, debug}` (NativeEvent in lib/native/binding.ts).
#pragma once

#include <gst/gst.h>
#include <napi.h>

#include <cstdint>
#include <string>

#include "common/gobject_ptr.h"
#include "common/native_error.h"

namespace wrtc {

namespace event {

// A bus ERROR or WARNING (or a missing element found while receiving): `source` is the element.
struct BusMessage {
  std::string source;
  std::string domain;
  int32_t code = 0;
  std::string message;
  std::string debug;
};
struct BusError : BusMessage {
  static constexpr const char* kType = "bus-error";
};
struct BusWarning : BusMessage {
  static constexpr const char* kType = "bus-warning";
};

// Any thread: the fields of an ERROR or WARNING message (`source` is the posting element's name).
inline BusMessage ReadBusMessage(GstMessage* message) {
  GErrorPtr err;
  GCharPtr debug;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) gst_message_parse_error(message, err.out(), debug.out());
  else gst_message_parse_warning(message, err.out(), debug.out());
  BusMessage fields;
  if (GstObject* src = GST_MESSAGE_SRC(message)) {
    GCharPtr name(gst_object_get_name(src));
    fields.source = name.or_empty();
  }
  if (err) {
    fields.domain = g_quark_to_string(err.get()->domain);
    fields.code = err.get()->code;
    fields.message = err.get()->message;
  }
  fields.debug = debug.or_empty();
  return fields;
}

// JS thread: the fields of a bus message on its JS object.
inline void SetBusFields(Napi::Object& out, const BusMessage& e) {
  out.Set("source", e.source);
  out.Set("domain", e.domain);
  out.Set("code", e.code);
  out.Set("message", e.message);
  out.Set("debug", e.debug);
}

}  // namespace event

// A bus ERROR as the cause a failed start reports. Keep the first one: the later ones are its
// consequences (basesrc's fallback "state change failed and some element failed to post a proper error
// message" follows ximagesrc's own "Could not open X display for reading").
inline NativeError StartCause(GstMessage* message, const event::BusMessage& fields) {
  GstObject* src = GST_MESSAGE_SRC(message);
  GstElementFactory* factory = src && GST_IS_ELEMENT(src) ? gst_element_get_factory(GST_ELEMENT(src)) : nullptr;
  return {"ERR_STATE_CHANGE", fields.source + ": " + fields.message, factory ? GST_OBJECT_NAME(factory) : "",
          fields.domain, fields.code};
}

}  // namespace wrtc
