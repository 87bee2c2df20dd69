// A failure a native class reports to JS: lib/errors.ts turns `code` into a typed error class.
#pragma once

#include <napi.h>

#include <string>

namespace wrtc {

struct NativeError {
  std::string code;     // ERR_MISSING_PLUGIN, ERR_PIPELINE, ERR_PAD_REQUEST, ERR_STATE_CHANGE, ERR_INVALID_SDP...
  std::string message;
  std::string element;  // the element concerned, when there is one (its factory name)
  // The GStreamer error behind it, when there is one (a failed start's cause): lib/ words some of
  // them itself (an X display that cannot be opened), so it needs GStreamer's domain and code.
  std::string domain{};
  int gst_code = 0;

  // JS thread: the Error carrying `code` (and `element`, `domain`, `gstCode`).
  Napi::Error ToJs(Napi::Env env) const {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", code);
    if (!element.empty()) error.Set("element", element);
    if (!domain.empty()) {
      error.Set("domain", domain);
      error.Set("gstCode", Napi::Number::New(env, gst_code));
    }
    return error;
  }
};

// A start that failed (`what`: "the pipeline could not be paused"), with its cause when a bus error
// told one (see StartCause in common/bus_event.h).
inline NativeError StartFailure(const std::string& what, const NativeError& cause) {
  NativeError error = cause;
  error.code = "ERR_STATE_CHANGE";
  error.message = cause.message.empty() ? what : what + ": " + cause.message;
  return error;
}

// JS thread: throws `error` as a JS exception.
[[noreturn]] inline void ThrowNative(Napi::Env env, const NativeError& error) { throw error.ToJs(env); }

}  // namespace wrtc
