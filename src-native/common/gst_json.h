// Serialises GstStructure values (webrtcbin stats, promise replies) to JSON text, so they cross to
// the JS thread as a plain string. Enums become their nicks ("inbound-rtp", "connected"...).
#pragma once

#include <gst/gst.h>

#include <string>

namespace wrtc {

std::string StructureToJson(const GstStructure* structure);
void AppendJsonString(std::string& out, const char* text);

}  // namespace wrtc
