// The process's DTLS certificate, made ahead of the first peer. GStreamer's dtlsdec generates one
// certificate per process (RSA 2048 in 1.22, kept for every later peer) when the first one is built:
// 130–830 ms of key generation on a loaded 2-core machine, on the first viewer's path unless done before.
#pragma once

#include <napi.h>

namespace wrtc {

// JS: prepareDtlsCertificate(): Promise<void>. The generation runs on a worker thread (libuv's pool),
// never the JS thread; a peer built meanwhile waits for the same one (GStreamer's g_once).
Napi::Value PrepareDtlsCertificate(const Napi::CallbackInfo& info);

}  // namespace wrtc
