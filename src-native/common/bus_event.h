// A pipeline's bus ERROR or WARNING as event payloads, shared by every class whose pipeline has a bus
// (the peer, the shared encoder): the same fields reach JS as `{type: 'bus-error' | 'bus-warning',
// source, domain, code, message, debug}` (NativeEvent in lib/native/binding.ts).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

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

// JS thread: the fields of a bus message on its JS object.
inline void SetBusFields(Napi::Object& out, const BusMessage& e) {
  out.Set("source", e.source);
  out.Set("domain", e.domain);
  out.Set("code", e.code);
  out.Set("message", e.message);
  out.Set("debug", e.debug);
}

}  // namespace event

}  // namespace wrtc
