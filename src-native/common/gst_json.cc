#include "common/gst_json.h"

#include <cmath>
#include <cstdio>

#include "common/gobject_ptr.h"

namespace wrtc {

void AppendJsonString(std::string& out, const char* text) {
  out.push_back('"');
  for (const char* p = text ? text : ""; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

static void AppendNumber(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", value);
  out += buf;
}

static void AppendValue(std::string& out, const GValue* value) {
  GType type = G_VALUE_TYPE(value);
  if (type == G_TYPE_STRING) {
    AppendJsonString(out, g_value_get_string(value));
  } else if (type == G_TYPE_BOOLEAN) {
    out += g_value_get_boolean(value) ? "true" : "false";
  } else if (type == G_TYPE_INT) {
    out += std::to_string(g_value_get_int(value));
  } else if (type == G_TYPE_UINT) {
    out += std::to_string(g_value_get_uint(value));
  } else if (type == G_TYPE_INT64) {
    out += std::to_string(g_value_get_int64(value));
  } else if (type == G_TYPE_UINT64) {
    out += std::to_string(g_value_get_uint64(value));
  } else if (type == G_TYPE_LONG) {
    out += std::to_string(g_value_get_long(value));
  } else if (type == G_TYPE_ULONG) {
    out += std::to_string(g_value_get_ulong(value));
  } else if (type == G_TYPE_DOUBLE) {
    AppendNumber(out, g_value_get_double(value));
  } else if (type == G_TYPE_FLOAT) {
    AppendNumber(out, g_value_get_float(value));
  } else if (type == GST_TYPE_STRUCTURE) {
    out += StructureToJson(gst_value_get_structure(value));
  } else if (G_TYPE_IS_ENUM(type)) {
    GEnumClass* klass = G_ENUM_CLASS(g_type_class_ref(type));
    GEnumValue* ev = g_enum_get_value(klass, g_value_get_enum(value));
    AppendJsonString(out, ev ? ev->value_nick : "");
    g_type_class_unref(klass);
  } else if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST) {
    out.push_back('[');
    guint n = type == GST_TYPE_ARRAY ? gst_value_array_get_size(value) : gst_value_list_get_size(value);
    for (guint i = 0; i < n; ++i) {
      if (i) out.push_back(',');
      AppendValue(out, type == GST_TYPE_ARRAY ? gst_value_array_get_value(value, i)
                                              : gst_value_list_get_value(value, i));
    }
    out.push_back(']');
  } else {
    GCharPtr text(gst_value_serialize(value));
    if (text.get()) AppendJsonString(out, text.get()); else out += "null";
  }
}

std::string StructureToJson(const GstStructure* structure) {
  std::string out = "{";
  if (!structure) return "{}";
  int n = gst_structure_n_fields(structure);
  for (int i = 0; i < n; ++i) {
    const gchar* field = gst_structure_nth_field_name(structure, i);
    if (i) out.push_back(',');
    AppendJsonString(out, field);
    out.push_back(':');
    AppendValue(out, gst_structure_get_value(structure, field));
  }
  out.push_back('}');
  return out;
}

}  // namespace wrtc
