// Every check here stands for a g_assert (or a crash) in webrtcbin 1.22 that a description can reach;
// the comment on each names the place. GStreamer's parser skips spaces after "a=" and takes a key with
// no ":", so checks look at its keys, not at the text.
#include "sdp_guard.h"

#include <cstring>

namespace wrtc {
namespace {

unsigned CountSessionAttributes(const GstSDPMessage* sdp, const char* key) {
  unsigned count = 0;
  for (guint i = 0; i < gst_sdp_message_attributes_len(sdp); i++) {
    const GstSDPAttribute* attribute = gst_sdp_message_get_attribute(sdp, i);
    if (attribute->key && std::strcmp(attribute->key, key) == 0) count++;
  }
  return count;
}

}  // namespace

std::string CheckDescription(const GstSDPMessage* sdp, bool /*remote*/) {
  // webrtcsdp.c _get_ice_credentials_from_sdp_media: g_assert (!*ufrag) / g_assert (!*pwd) when the
  // session level holds a key twice (with or without a value).
  for (const char* key : {"ice-ufrag", "ice-pwd"}) {
    if (CountSessionAttributes(sdp, key) > 1) {
      return std::string("more than one session-level a=") + key;
    }
  }
  return {};
}

}  // namespace wrtc
