// Every check here stands for a g_assert (or a crash) in webrtcbin 1.22 that a description can reach;
// the comment on each names the place. GStreamer's parser skips spaces after "a=" and takes a key with
// no ":", so checks look at its keys, not at the text.
#include "sdp_guard.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/webrtc/webrtc.h>

#include <algorithm>
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

std::string CheckRemoteAnswer(const GstSDPMessage* answer, GstElement* webrtc) {
  GstWebRTCSessionDescription* offer = nullptr;
  g_object_get(webrtc, "pending-local-description", &offer, nullptr);
  if (!offer) return {};
  std::string violation;
  // gstwebrtcbin.c _update_transceiver_from_sdp_media takes the direction of our m-line at the same
  // index; our m=application has none, so an audio/video answer there reaches webrtcsdp.c
  // _get_final_direction's g_assert_not_reached (SIGABRT). RFC 3264 6: an answer keeps each media type.
  guint count = std::min(gst_sdp_message_medias_len(answer), gst_sdp_message_medias_len(offer->sdp));
  for (guint i = 0; i < count && violation.empty(); i++) {
    const char* answered = gst_sdp_media_get_media(gst_sdp_message_get_media(answer, i));
    const char* offered = gst_sdp_media_get_media(gst_sdp_message_get_media(offer->sdp, i));
    if (!answered || !offered || std::strcmp(answered, offered) != 0) {
      violation = "m-line " + std::to_string(i) + " answers m=" + (offered ? offered : "?") + " with m=" +
                  (answered ? answered : "(none)");
    }
  }
  gst_webrtc_session_description_free(offer);
  return violation;
}

}  // namespace wrtc
