#include "common/latency_trace.h"

#include <fcntl.h>
#include <gst/gst.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace wrtc {

namespace {

bool trace_on = false;
int trace_fd = STDERR_FILENO;

// The stage a push out of an element of this factory marks; null: not traced.
const char* StageOfSource(const char* factory) {
  static const struct {
    const char* factory;
    const char* stage;
  } kStages[] = {
      {"webrtcbinxdamagesrc", "src"}, {"ximagesrc", "src"},         {"videoconvert", "convert"},
      {"x264enc", "encoded"},         {"openh264enc", "encoded"},   {"vp8enc", "encoded"},
      {"vp9enc", "encoded"},          {"rtph264pay", "pay"},        {"rtpvp8pay", "pay"},
      {"rtpvp9pay", "pay"},           {"nicesrc", "received"},      {"rtpjitterbuffer", "jitterbuffer"},
      {"rtph264depay", "depay"},      {"rtpvp8depay", "depay"},     {"rtpvp9depay", "depay"},
      {"avdec_h264", "decoded"},      {"openh264dec", "decoded"},   {"vp8dec", "decoded"},
      {"vp9dec", "decoded"},          {"sctpdec", "sctp"},
  };
  for (const auto& s : kStages) {
    if (strcmp(s.factory, factory) == 0) return s.stage;
  }
  return nullptr;
}

// The stage a push into an element of this factory marks (the network going out, the frames' appsink).
const char* StageOfSink(const char* factory) {
  if (strcmp(factory, "nicesink") == 0) return "sent";
  if (strcmp(factory, "appsink") == 0) return "appsink";
  return nullptr;
}

const char* FactoryOf(GstObject* object) {
  if (!object || !GST_IS_ELEMENT(object)) return nullptr;
  GstElementFactory* factory = gst_element_get_factory(GST_ELEMENT(object));
  return factory ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)) : nullptr;
}

void TracePush(GstPad* pad, int64_t pts, uint64_t size) {
  // Parents read without a reference: a pad pushing is held by its element for the push's length.
  GstObject* element = GST_OBJECT_PARENT(pad);
  const char* factory = FactoryOf(element);
  const char* stage = factory ? StageOfSource(factory) : nullptr;
  if (!stage) {
    GstPad* peer = GST_PAD_PEER(pad);
    GstObject* peer_element = peer ? GST_OBJECT_PARENT(peer) : nullptr;
    const char* peer_factory = FactoryOf(peer_element);
    stage = peer_factory ? StageOfSink(peer_factory) : nullptr;
    element = peer_element;
  }
  if (stage) LatencyTrace(stage, pts, size, GST_OBJECT_NAME(element));
}

void OnPush(GstTracer*, guint64, GstPad* pad, GstBuffer* buffer) {
  TracePush(pad, GST_BUFFER_PTS_IS_VALID(buffer) ? int64_t(GST_BUFFER_PTS(buffer)) : -1, gst_buffer_get_size(buffer));
}

void OnPushList(GstTracer*, guint64, GstPad* pad, GstBufferList* list) {
  GstBuffer* first = gst_buffer_list_length(list) > 0 ? gst_buffer_list_get(list, 0) : nullptr;
  TracePush(pad, first && GST_BUFFER_PTS_IS_VALID(first) ? int64_t(GST_BUFFER_PTS(first)) : -1,
            gst_buffer_list_calculate_size(list));
}

}  // namespace

bool LatencyTraceOn() { return trace_on; }

void LatencyTrace(const char* stage, int64_t pts, uint64_t size, const char* element) {
  if (!trace_on) return;
  char line[192];
  int n = snprintf(line, sizeof(line), "wrtc-lat %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
                   stage, g_get_monotonic_time(), gint64(pts), guint64(size), element ? element : "-");
  // One write() per line: lines from several threads never interleave (shorter than PIPE_BUF).
  if (n > 0) {
    ssize_t written = write(trace_fd, line, size_t(std::min<int>(n, sizeof(line) - 1)));
    (void)written;
  }
}

}  // namespace wrtc

// ---- the GstTracer (plain structs, as GObject wants them) ----

struct WebrtcbinLatencyTracer {
  GstTracer parent;
};
struct WebrtcbinLatencyTracerClass {
  GstTracerClass parent_class;
};

G_DEFINE_TYPE(WebrtcbinLatencyTracer, webrtcbin_latency_tracer, GST_TYPE_TRACER)

static void webrtcbin_latency_tracer_class_init(WebrtcbinLatencyTracerClass*) {}

static void webrtcbin_latency_tracer_init(WebrtcbinLatencyTracer* self) {
  gst_tracing_register_hook(GST_TRACER(self), "pad-push-pre", G_CALLBACK(wrtc::OnPush));
  gst_tracing_register_hook(GST_TRACER(self), "pad-push-list-pre", G_CALLBACK(wrtc::OnPushList));
}

namespace wrtc {

void InstallLatencyTracer() {
  const char* env = getenv("WEBRTCBIN_LATENCY_TRACE");
  trace_on = env && *env && strcmp(env, "0") != 0;
  if (!trace_on) return;
  // "1": stderr; anything else names a file the lines are appended to.
  if (strcmp(env, "1") != 0) {
    int fd = open(env, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      g_warning("WEBRTCBIN_LATENCY_TRACE: cannot open %s; tracing to stderr", env);
    } else {
      trace_fd = fd;  // open for the process's life, as the tracer
    }
  }
  // Lives as long as the process: the hooks hold their own references to it, and GStreamer has no
  // call that unregisters a hook; this one is dropped at once so none is left unpaired here.
  gpointer tracer = gst_object_ref_sink(g_object_new(webrtcbin_latency_tracer_get_type(), nullptr));
  gst_object_unref(tracer);
}

}  // namespace wrtc
