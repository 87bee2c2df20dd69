#include "rtp/twcc_feedback.h"

#include <cmath>
#include <limits>

namespace wrtc {

namespace {

double Ms(const GstStructure* s, const char* field) {
  guint64 ns = GST_CLOCK_TIME_NONE;
  if (!gst_structure_get_uint64(s, field, &ns) || !GST_CLOCK_TIME_IS_VALID(ns)) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(ns) / 1e6;
}

}  // namespace

bool TwccPacketsFromEvent(GstEvent* event, std::vector<double>* packets) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM) return false;
  const GstStructure* s = gst_event_get_structure(event);
  if (!s || !gst_structure_has_name(s, "RTPTWCCPackets")) return false;
  // "packets" is a GValueArray of RTPTWCCPacket structures (rtpstats.c, rtp_twcc_stats_get_packets_structure).
  const GValue* list = gst_structure_get_value(s, "packets");
  if (!list) return true;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!G_VALUE_HOLDS(list, G_TYPE_VALUE_ARRAY)) return true;
  GValueArray* array = static_cast<GValueArray*>(g_value_get_boxed(list));
  guint n = array ? array->n_values : 0;
  packets->reserve(packets->size() + n * 4);
  for (guint i = 0; i < n; i++) {
    const GValue* v = g_value_array_get_nth(array, i);
    if (!GST_VALUE_HOLDS_STRUCTURE(v)) continue;
    const GstStructure* p = gst_value_get_structure(v);
    guint seq = 0;
    guint size = 0;
    gboolean lost = FALSE;
    if (!gst_structure_get_uint(p, "seqnum", &seq)) continue;
    gst_structure_get_uint(p, "size", &size);
    gst_structure_get_boolean(p, "lost", &lost);
    double send = Ms(p, "local-ts");
    if (std::isnan(send)) continue;  // not one of ours (sent before the extension was on)
    packets->push_back(static_cast<double>(seq));
    packets->push_back(send);
    packets->push_back(lost ? std::numeric_limits<double>::quiet_NaN() : Ms(p, "remote-ts"));
    packets->push_back(static_cast<double>(size));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return true;
}

}  // namespace wrtc
