#include "peer/dtls_certificate.h"

#include <gst/gst.h>

#include "common/gobject_ptr.h"

namespace wrtc {

namespace {

class CertificateWorker final : public Napi::AsyncWorker {
 public:
  explicit CertificateWorker(Napi::Env env) : Napi::AsyncWorker(env, "webrtcbin-dtls-certificate"), deferred_(env) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    // Building a dtlsdec without a "pem" makes (once per process) the certificate every peer then shares.
    GstElement* element = gst_element_factory_make("dtlsdec", nullptr);
    if (!element) return SetError("the dtlsdec element is missing (gstreamer1.0-plugins-bad)");
    GObjectPtr<GstElement> owned(GST_ELEMENT(gst_object_ref_sink(element)));
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value PrepareDtlsCertificate(const Napi::CallbackInfo& info) {
  auto* worker = new CertificateWorker(info.Env());  // deletes itself once settled
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace wrtc
