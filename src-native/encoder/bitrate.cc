// src-native/encoder/: the shared encoder (NativeEncoder, its fan-out to peers) and runtime bitrate (this file).
#include "encoder/bitrate.h"

#include <cstring>

#include "common/gobject_ptr.h"

namespace wrtc {

namespace {

struct EncoderKind {
  const char* factory;
  const char* property;
  int bits_per_unit;  // 1000: property in bit/s; 1: property in kbit/s
};
constexpr EncoderKind kEncoders[] = {
    {"vp8enc", "target-bitrate", 1000},
    {"vp9enc", "target-bitrate", 1000},
    {"x264enc", "bitrate", 1},
    {"openh264enc", "bitrate", 1000},
};

// The first known encoder in `bin` (recursively), with a new reference.
GstElement* FindEncoder(GstElement* bin, const EncoderKind** kind) {
  if (!bin || !GST_IS_BIN(bin)) return nullptr;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  GstElement* found = nullptr;
  bool done = false;
  while (!done && !found) {
    switch (gst_iterator_next(it, &item)) {
      case GST_ITERATOR_OK: {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* factory = gst_element_get_factory(element);
        const char* name = factory ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory)) : nullptr;
        for (const EncoderKind& k : kEncoders) {
          if (name && std::strcmp(name, k.factory) == 0) {
            found = GST_ELEMENT(gst_object_ref(element));
            *kind = &k;
            break;
          }
        }
        g_value_reset(&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync(it);
        break;
      default:
        done = true;
        break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// The property is gint (vpx), guint (x264enc, openh264enc): set and read through its own GType.
void SetUnits(GstElement* encoder, const char* property, guint64 value) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), property);
  if (!spec) return;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, spec->value_type);
  if (spec->value_type == G_TYPE_INT) {
    auto* range = G_PARAM_SPEC_INT(spec);
    g_value_set_int(&v, static_cast<gint>(CLAMP(static_cast<gint64>(value), range->minimum, range->maximum)));
  } else if (spec->value_type == G_TYPE_UINT) {
    auto* range = G_PARAM_SPEC_UINT(spec);
    g_value_set_uint(&v, static_cast<guint>(CLAMP(value, range->minimum, range->maximum)));
  } else {
    g_value_unset(&v);
    return;
  }
  g_object_set_property(G_OBJECT(encoder), property, &v);
  g_value_unset(&v);
}

gint64 GetUnits(GstElement* encoder, const char* property) {
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), property);
  if (!spec) return -1;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, spec->value_type);
  g_object_get_property(G_OBJECT(encoder), property, &v);
  gint64 out = -1;
  if (spec->value_type == G_TYPE_INT) out = g_value_get_int(&v);
  else if (spec->value_type == G_TYPE_UINT) out = g_value_get_uint(&v);
  g_value_unset(&v);
  return out;
}

}  // namespace

int SetEncoderBitrate(GstElement* bin, int kbps) {
  const EncoderKind* kind = nullptr;
  GObjectPtr<GstElement> encoder(FindEncoder(bin, &kind));
  if (!encoder) return -1;
  SetUnits(encoder.get(), kind->property, static_cast<guint64>(kbps) * kind->bits_per_unit);
  gint64 now = GetUnits(encoder.get(), kind->property);
  return now < 0 ? -1 : static_cast<int>(now / kind->bits_per_unit);
}

int GetEncoderBitrate(GstElement* bin) {
  const EncoderKind* kind = nullptr;
  GObjectPtr<GstElement> encoder(FindEncoder(bin, &kind));
  if (!encoder) return -1;
  gint64 now = GetUnits(encoder.get(), kind->property);
  return now < 0 ? -1 : static_cast<int>(now / kind->bits_per_unit);
}

}  // namespace wrtc
