// A failure a native class reports to JS: lib/errors.ts turns `code` into a typed error class.
#pragma once

#include <napi.h>

#include <string>

namespace wrtc {

struct NativeError {
  std::string code;     // ERR_MISSING_PLUGIN, ERR_PIPELINE, ERR_PAD_REQUEST, ERR_STATE_CHANGE, ERR_INVALID_SDP...
  std::string message;
  std::string element;  // the element concerned, when there is one

  // JS thread: the Error carrying `code` (and `element`).
  Napi::Error ToJs(Napi::Env env) const {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", code);
    if (!element.empty()) error.Set("element", element);
    return error;
  }
};

// JS thread: throws `error` as a JS exception.
[[noreturn]] inline void ThrowNative(Napi::Env env, const NativeError& error) { throw error.ToJs(env); }

}  // namespace wrtc
