// Every check here stands for a g_assert (or a crash) in webrtcbin 1.22 that a description can reach;
// the comment on each names the place. GStreamer's parser skips spaces after "a=" and takes a key with
// no ":", so checks look at its keys, not at the text. docs/reliability.md has the whole audit.
#include "peer/sdp_guard.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/webrtc/webrtc.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace wrtc {
namespace {

// More m-lines than any peer of ours negotiates (video, audio, data): each one costs webrtcbin a
// transceiver and transport, so a description with hundreds is refused rather than held.
constexpr guint kMaxMediaSections = 16;

unsigned CountSessionAttributes(const GstSDPMessage* sdp, const char* key) {
  unsigned count = 0;
  for (guint i = 0; i < gst_sdp_message_attributes_len(sdp); i++) {
    const GstSDPAttribute* attribute = gst_sdp_message_get_attribute(sdp, i);
    if (attribute->key && std::strcmp(attribute->key, key) == 0) count++;
  }
  return count;
}

// The mid webrtcbin reads for an m-line: the value of its first a=mid (NULL when there is none).
const char* MidOf(const GstSDPMessage* sdp, guint index) {
  return gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(sdp, index), "mid");
}

// A value from the peer, cut short for an error message (which may be logged).
std::string Excerpt(const char* text) {
  std::string value = text ? text : "";
  return value.size() > 40 ? value.substr(0, 40) + "..." : value;
}

std::string Quoted(const char* text) { return "\"" + Excerpt(text) + "\""; }

bool IsIpAddress(const char* text) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, text, bytes) == 1 || inet_pton(AF_INET6, text, bytes) == 1;
}

}  // namespace

std::string CheckDescription(const GstSDPMessage* sdp, bool remote) {
  // webrtcsdp.c _get_ice_credentials_from_sdp_media: g_assert (!*ufrag) / g_assert (!*pwd) when the
  // session level holds a key twice (with or without a value) and an m-line lacks its own pair.
  for (const char* key : {"ice-ufrag", "ice-pwd"}) {
    if (CountSessionAttributes(sdp, key) > 1) {
      return std::string("more than one session-level a=") + key;
    }
  }
  guint medias = gst_sdp_message_medias_len(sdp);
  if (medias > kMaxMediaSections) {
    return std::to_string(medias) + " m= lines (at most " + std::to_string(kMaxMediaSections) + ")";
  }
  // The same function hands a NULL ufrag or pwd to nice.c gst_webrtc_nice_set_remote_credentials
  // (g_return_val_if_fail (ufrag != NULL) / (pwd != NULL)) when an m-line lacks one of the pair and
  // the session level has only the other: it takes the session's pair or the m-line's, never one of each.
  bool session_ufrag = CountSessionAttributes(sdp, "ice-ufrag") > 0;
  bool session_pwd = CountSessionAttributes(sdp, "ice-pwd") > 0;
  for (guint i = 0; remote && session_ufrag != session_pwd && i < medias; i++) {
    const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
    bool own_pair = gst_sdp_media_get_attribute_val(media, "ice-ufrag") && gst_sdp_media_get_attribute_val(media, "ice-pwd");
    if (!own_pair) {
      return std::string("m-line ") + std::to_string(i) + " lacks its own a=ice-ufrag/a=ice-pwd pair and the session level has only a=" +
             (session_ufrag ? "ice-ufrag" : "ice-pwd");
    }
  }
  // gstwebrtcbin.c sdp_media_from_transceiver: g_assert (trans->mline == -1 || trans->mline == media_idx)
  // (and _create_offer_task's g_assert (!g_list_find (seen_transceivers, trans))): webrtcbin finds a
  // transceiver by mid, so two m-lines with one mid abort the next offer built from this description.
  for (guint i = 0; i < medias; i++) {
    const char* mid = MidOf(sdp, i);
    for (guint j = 0; mid && *mid && j < i; j++) {
      const char* earlier = MidOf(sdp, j);
      if (earlier && std::strcmp(earlier, mid) == 0) {
        return "a=mid:" + Excerpt(mid) + " on m-line " + std::to_string(j) + " and m-line " + std::to_string(i);
      }
    }
  }
  // transportstream.c transport_stream_add_ssrc_map_item: g_return_val_if_fail (ssrc != 0), reached from
  // _set_description_task for a remote "a=ssrc:<id> cname:..." whose id reads as 0 the way webrtcbin
  // reads it (sscanf %u: "0", "00", or 4294967296, which wraps).
  for (guint i = 0; remote && i < medias; i++) {
    const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
    for (guint j = 0; j < gst_sdp_media_attributes_len(media); j++) {
      const GstSDPAttribute* attribute = gst_sdp_media_get_attribute(media, j);
      unsigned ssrc = 1;
      if (g_strcmp0(attribute->key, "ssrc") == 0 && attribute->value && std::sscanf(attribute->value, "%u", &ssrc) == 1 &&
          ssrc == 0) {
        return "a=ssrc:" + Excerpt(attribute->value) + " on m-line " + std::to_string(i) +
               " (SSRC 0, which webrtcbin cannot map)";
      }
    }
  }
  // gstwebrtcbin.c _add_ice_candidates_from_sdp hands every a=candidate of a remote description to
  // libnice as add-ice-candidate would: the same checks.
  for (guint i = 0; remote && i < medias; i++) {
    const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
    for (guint j = 0; j < gst_sdp_media_attributes_len(media); j++) {
      const GstSDPAttribute* attribute = gst_sdp_media_get_attribute(media, j);
      if (g_strcmp0(attribute->key, "candidate") != 0) continue;
      std::string problem = CheckCandidate(std::string("candidate:") + (attribute->value ? attribute->value : ""));
      if (!problem.empty()) return "a=candidate on m-line " + std::to_string(i) + ": " + problem;
    }
  }
  // gstwebrtcbin.c _add_data_channel_offer: g_assert (last_data_index == gst_sdp_message_medias_len (msg))
  // in our next offer once a description held two data-channel m-lines (webrtcbin has one SCTP
  // association and expects one such line). Same test as webrtcsdp.c _message_media_is_datachannel.
  int data_line = -1;
  for (guint i = 0; i < medias; i++) {
    const GstSDPMedia* media = gst_sdp_message_get_media(sdp, i);
    bool data_channel = g_strcmp0(gst_sdp_media_get_media(media), "application") == 0 &&
                        gst_sdp_media_formats_len(media) == 1 &&
                        g_strcmp0(gst_sdp_media_get_format(media, 0), "webrtc-datachannel") == 0;
    if (!data_channel) continue;
    if (data_line >= 0) {
      return "a second m=application webrtc-datachannel line (m-line " + std::to_string(i) + "; the first is m-line " +
             std::to_string(data_line) + ")";
    }
    data_line = static_cast<int>(i);
  }
  return {};
}

std::string CheckRenegotiation(const GstSDPMessage* previous, const GstSDPMessage* next) {
  // gstwebrtcbin.c _create_answer_task: g_assert (g_strcmp0 (mid, last_mid) == 0) when a new offer
  // moves a negotiated mid to another m-line (JSEP: an m-line keeps its mid; webrtcbin cannot recycle).
  guint common = std::min(gst_sdp_message_medias_len(previous), gst_sdp_message_medias_len(next));
  for (guint i = 0; i < common; i++) {
    const char* before = MidOf(previous, i);
    const char* now = MidOf(next, i);
    if (before && now && std::strcmp(before, now) != 0) {
      return "m-line " + std::to_string(i) + " has a=mid:" + Excerpt(now) + " but was negotiated as mid " + Quoted(before) +
             " (a mid cannot move to another m= line)";
    }
  }
  return {};
}

std::string CheckCandidate(const std::string& candidate) {
  gchar** fields = g_strsplit(candidate.c_str(), " ", -1);
  guint count = g_strv_length(fields);
  std::string problem;
  if (count < 8) {
    problem = "fewer than 8 fields";
  } else {
    // libnice nice_agent_set_remote_candidates: g_return_val_if_fail (component_id >= 1); RFC 8839
    // allows 1 to 256 and webrtcbin uses 1 (RTP) and 2 (RTCP, dropped).
    gchar* end = nullptr;
    guint64 component = g_ascii_strtoull(fields[1], &end, 10);
    bool tcp = g_ascii_strcasecmp(fields[2], "tcp") == 0;
    bool tcptype = false;
    for (guint i = 8; tcp && i + 1 < count; i++) {
      if (std::strcmp(fields[i], "tcptype") == 0) {
        tcptype = std::strcmp(fields[i + 1], "active") == 0 || std::strcmp(fields[i + 1], "passive") == 0 ||
                  std::strcmp(fields[i + 1], "so") == 0;
      }
    }
    const char* address = fields[4];
    if (end == fields[1] || *end || component < 1 || component > 256) {
      problem = "component " + Quoted(fields[1]) + " is not 1 to 256";
    } else if (tcp && !tcptype) {
      // libnice's parser: g_ascii_strcasecmp (NULL, ...) critical for a TCP candidate without its type (RFC 6544).
      problem = "a tcp candidate without \"tcptype active|passive|so\"";
    } else if (!IsIpAddress(address) && !g_str_has_suffix(address, ".local")) {
      // webrtcbin resolves any other name (nice.c get_candidate_address): a peer would choose our DNS lookups.
      problem = "address " + Quoted(address) + " is neither an IP address nor an mDNS .local name";
    }
  }
  g_strfreev(fields);
  return problem;
}

bool IsMdnsCandidate(const std::string& candidate) {
  // The address is the fifth field ("candidate:<foundation> <component> <transport> <priority> <address> ...").
  gchar** fields = g_strsplit(candidate.c_str(), " ", 6);
  bool mdns = g_strv_length(fields) >= 5 && g_str_has_suffix(fields[4], ".local");
  g_strfreev(fields);
  return mdns;
}

guint DropMdnsCandidates(GstSDPMessage* sdp) {
  guint dropped = 0;
  for (guint m = 0; m < gst_sdp_message_medias_len(sdp); m++) {
    // The message is ours (parsed from the peer's text); its medias are only exposed as const.
    GstSDPMedia* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
    for (guint a = gst_sdp_media_attributes_len(media); a-- > 0;) {
      const GstSDPAttribute* attribute = gst_sdp_media_get_attribute(media, a);
      if (g_strcmp0(attribute->key, "candidate") != 0 || !attribute->value) continue;
      if (!IsMdnsCandidate(std::string("candidate:") + attribute->value)) continue;
      gst_sdp_media_remove_attribute(media, a);
      dropped++;
    }
  }
  return dropped;
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

namespace {

// Attribute names of the WebRTC SDP (RFC 8829 and the RFCs it names, the WebRTC extensions browsers
// send) plus webrtcbin's own; anything else never changes what webrtcbin does with a description.
constexpr const char* kKnownAttributes[] = {
    "group", "msid-semantic", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "ice-mismatch",
    "fingerprint", "setup", "tls-id", "identity", "mid", "msid", "extmap", "extmap-allow-mixed",
    "sendrecv", "sendonly", "recvonly", "inactive", "rtcp", "rtcp-mux", "rtcp-mux-only", "rtcp-rsize", "rtcp-xr",
    "rtpmap", "rtcp-fb", "fmtp", "ssrc", "ssrc-group", "candidate", "end-of-candidates",
    "remote-candidates", "sctp-port", "max-message-size", "sctpmap", "rid", "simulcast", "framerate",
    "ptime", "maxptime", "bundle-only", "content", "label", "imageattr", "x-google-flag"};

// fmtp parameter names of the codecs webrtcbin and browsers negotiate (H.264, H.265, VP8, VP9, AV1,
// Opus, RTX, RED/FEC, telephone-event).
constexpr const char* kKnownFmtpParameters[] = {
    "profile-level-id", "packetization-mode", "level-asymmetry-allowed", "sprop-parameter-sets",
    "max-mbps", "max-smbps", "max-fs", "max-cpb", "max-dpb", "max-br", "max-fr", "max-recv-level",
    "profile-id", "profile", "level-idx", "tier", "level-id", "tier-flag", "profile-space",
    "tx-mode", "sprop-vps", "sprop-sps", "sprop-pps", "apt", "rtx-time", "minptime", "useinbandfec",
    "usedtx", "stereo", "sprop-stereo", "maxplaybackrate", "sprop-maxcapturerate", "maxaveragebitrate",
    "cbr", "ptime", "maxptime", "repair-window", "x-google-start-bitrate", "x-google-min-bitrate",
    "x-google-max-bitrate", "x-google-max-quantization", "0-15", "0-16"};

template <size_t N>
bool Known(const char* const (&names)[N], const char* name) {
  for (const char* known : names) {
    if (g_ascii_strcasecmp(known, name) == 0) return true;
  }
  return false;
}

// "96 a=1;b=2": keeps the known parameters; a bare value (RED's "96/96", telephone-event's "0-15")
// has no name and stays.
std::string KnownFmtp(const char* value, guint* dropped) {
  const char* space = std::strchr(value, ' ');
  if (!space) return value;
  std::string kept(value, space - value);
  gchar** parameters = g_strsplit(space + 1, ";", -1);
  std::string list;
  for (gchar** p = parameters; *p; p++) {
    gchar* parameter = g_strstrip(*p);
    if (!*parameter) continue;
    const char* equals = std::strchr(parameter, '=');
    std::string name = equals ? std::string(parameter, equals - parameter) : std::string(parameter);
    if (equals && !Known(kKnownFmtpParameters, g_strstrip(&name[0]))) {
      (*dropped)++;
      continue;
    }
    list += (list.empty() ? "" : ";") + std::string(parameter);
  }
  g_strfreev(parameters);
  return list.empty() ? kept : kept + " " + list;
}

}  // namespace

guint DropUnknownAttributes(GstSDPMessage* sdp) {
  guint dropped = 0;
  for (guint a = gst_sdp_message_attributes_len(sdp); a-- > 0;) {
    const GstSDPAttribute* attribute = gst_sdp_message_get_attribute(sdp, a);
    if (attribute->key && Known(kKnownAttributes, attribute->key)) continue;
    gst_sdp_message_remove_attribute(sdp, a);
    dropped++;
  }
  for (guint m = 0; m < gst_sdp_message_medias_len(sdp); m++) {
    // The message is ours (parsed from the peer's text); its medias are only exposed as const.
    GstSDPMedia* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
    for (guint a = gst_sdp_media_attributes_len(media); a-- > 0;) {
      const GstSDPAttribute* attribute = gst_sdp_media_get_attribute(media, a);
      if (!attribute->key || !Known(kKnownAttributes, attribute->key)) {
        gst_sdp_media_remove_attribute(media, a);
        dropped++;
      } else if (std::strcmp(attribute->key, "fmtp") == 0 && attribute->value) {
        guint before = dropped;
        std::string value = KnownFmtp(attribute->value, &dropped);
        if (dropped == before) continue;
        GstSDPAttribute replacement;
        gst_sdp_attribute_set(&replacement, "fmtp", value.c_str());
        gst_sdp_media_replace_attribute(media, a, &replacement);  // takes the new one's contents
      }
    }
  }
  return dropped;
}

}  // namespace wrtc
