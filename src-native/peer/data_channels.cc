// Data channels: webrtcbin's channel objects kept by key, their signals as events, sends and closes.
#include "peer/peer_core.h"

#include <cstring>

#include "common/gst_json.h"
#include "common/latency_trace.h"
#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

namespace {

// Signals added for the browser's semantics; the older ones are in trampolines.h.
void ChannelLowCb(GObject*, gpointer data) {
  PostChannel(data, [](uint64_t key) { return event::ChannelBufferedAmountLow{key}; });
}
// notify::ready-state: only "closing" is news to JS (the remote or a failure began the close; after
// our own close() JS is closing already and ignores it); open and closed arrive as on-open, on-close.
void ChannelStateCb(GObject* object, GParamSpec*, gpointer data) {
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  g_object_get(object, "ready-state", &state, nullptr);
  if (state != GST_WEBRTC_DATA_CHANNEL_STATE_CLOSING) return;
  PostChannel(data, [](uint64_t key) { return event::ChannelClosing{key}; });
}

// A text message as webrtcbin hands it over (on a GStreamer thread), stamped for WEBRTCBIN_LATENCY_TRACE
// before it is queued for JS: the thread-safe function's hop is the step after this one.
void TracedChannelStringCb(GObject* object, gchar* text, gpointer data) {
  if (LatencyTraceOn()) LatencyTrace("channel-message", -1, text ? strlen(text) : 0, "datachannel");
  ChannelStringCb(object, text, data);
}

const char* StateName(GstWebRTCDataChannelState state) {
  switch (state) {
    case GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING: return "connecting";
    case GST_WEBRTC_DATA_CHANNEL_STATE_OPEN: return "open";
    case GST_WEBRTC_DATA_CHANNEL_STATE_CLOSING: return "closing";
    default: return "closed";
  }
}

// GStreamer's send error as our code: lib/peer/data-channel.ts words and types it. (1.22's header
// declares gst_webrtc_error_quark outside extern "C", so GST_WEBRTC_ERROR does not link from C++:
// the quark is looked up by its name.)
const char* SendErrorCode(const GError* error) {
  if (error && error->domain == g_quark_from_static_string("gst-webrtc-error-quark")) {
    if (error->code == GST_WEBRTC_ERROR_TYPE_ERROR) return "ERR_DATA_CHANNEL_TOO_LARGE";
    if (error->code == GST_WEBRTC_ERROR_INVALID_STATE) return "ERR_INVALID_STATE";
  }
  return "ERR_DATA_CHANNEL_SEND";
}

}  // namespace

uint64_t PeerCore::RegisterChannel(GstWebRTCDataChannel* channel) {
  uint64_t key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    key = next_channel_++;
    channels_.emplace(key, GObjectPtr<GstWebRTCDataChannel>::ref(channel));
  }
  WatchChannel(key, channel);
  return key;
}

void PeerCore::WatchChannel(uint64_t key, GstWebRTCDataChannel* channel) {
  struct Handler {
    const char* signal;
    GCallback callback;
  };
  for (const Handler& h : {Handler{"on-open", G_CALLBACK(ChannelOpenCb)},
                           Handler{"on-close", G_CALLBACK(ChannelCloseCb)},
                           Handler{"on-error", G_CALLBACK(ChannelErrorCb)},
                           Handler{"on-message-string", G_CALLBACK(TracedChannelStringCb)},
                           Handler{"on-message-data", G_CALLBACK(ChannelDataCb)},
                           Handler{"on-buffered-amount-low", G_CALLBACK(ChannelLowCb)},
                           Handler{"notify::ready-state", G_CALLBACK(ChannelStateCb)}}) {
    gulong id = g_signal_connect_data(channel, h.signal, h.callback,
                                      new ChannelHandlerData{weak_from_this(), key}, FreeChannelData,
                                      GConnectFlags(0));
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.emplace_back(GObjectPtr<GObject>::ref(G_OBJECT(channel)), id);
  }
}

void PeerCore::OnDataChannel(GstWebRTCDataChannel* channel) {
  if (closing_) return;
  // The handlers go on first, the state is read after: an on-open that webrtcbin emitted before it
  // handed the channel over (1.22 announces a remote channel once it is open) is then in the state
  // read here, and one emitted later arrives as an event after this one. JS reads the rest by key.
  uint64_t key = RegisterChannel(channel);
  GCharPtr label;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  g_object_get(channel, "label", label.out(), "ready-state", &state, nullptr);
  pipe.Post(event::DataChannel{key, label.or_empty(), StateName(state)});
}

uint64_t PeerCore::CreateDataChannel(const std::string& label, const std::string& options_structure) {
  GstStructure* options = options_structure.empty() ? nullptr : gst_structure_from_string(options_structure.c_str(), nullptr);
  GstWebRTCDataChannel* channel = nullptr;
  g_signal_emit_by_name(webrtc_, "create-data-channel", label.c_str(), options, &channel);
  if (options) gst_structure_free(options);
  GObjectPtr<GstWebRTCDataChannel> returned(channel);  // the signal's reference; channels_ takes its own
  if (!returned) return 0;
  return RegisterChannel(returned.get());
}

GObjectPtr<GstWebRTCDataChannel> PeerCore::FindChannel(uint64_t key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = channels_.find(key);
  if (it == channels_.end()) return {};
  return GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
}

bool PeerCore::SendOnChannel(uint64_t key, const std::string& text, const void* data, size_t size, bool binary,
                             NativeError* error) {
  GObjectPtr<GstWebRTCDataChannel> channel = FindChannel(key);
  if (!channel) {
    *error = NativeError{"ERR_INVALID_STATE", "the data channel is closed", ""};
    return false;
  }
  // The *_full calls report what the action signals drop silently: a message above the SCTP
  // transport's max-message-size, a channel that is not open. An empty message goes as NULL, which
  // webrtcbin sends with the "empty" PPIDs of RFC 8831 §6.6 (an empty SCTP message is not allowed).
  GError* gerror = nullptr;
  gboolean sent;
  if (binary) {
    GBytes* bytes = size > 0 ? g_bytes_new(data, size) : g_bytes_new_static("", 0);
    sent = gst_webrtc_data_channel_send_data_full(channel.get(), bytes, &gerror);
    g_bytes_unref(bytes);
  } else {
    sent = gst_webrtc_data_channel_send_string_full(channel.get(), text.c_str(), &gerror);
  }
  if (sent) return true;
  *error = NativeError{SendErrorCode(gerror), gerror ? gerror->message : "webrtcbin did not send the message", ""};
  if (gerror) g_error_free(gerror);
  return false;
}

void PeerCore::CloseChannel(uint64_t key) {
  if (GObjectPtr<GstWebRTCDataChannel> channel = FindChannel(key)) g_signal_emit_by_name(channel.get(), "close");
}

void PeerCore::SetChannelLowThreshold(uint64_t key, uint64_t bytes) {
  if (GObjectPtr<GstWebRTCDataChannel> channel = FindChannel(key)) {
    g_object_set(channel.get(), "buffered-amount-low-threshold", static_cast<guint64>(bytes), nullptr);
  }
}

std::string PeerCore::ChannelInfoJson(uint64_t key) {
  GObjectPtr<GstWebRTCDataChannel> channel = FindChannel(key);
  if (!channel) return "null";
  GCharPtr label, protocol;
  gint id = -1, max_retransmits = -1, max_lifetime = -1;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  guint64 buffered = 0, threshold = 0;
  gboolean ordered = TRUE, negotiated = FALSE;
  g_object_get(channel.get(), "label", label.out(), "protocol", protocol.out(), "id", &id, "ready-state", &state,
               "buffered-amount", &buffered, "buffered-amount-low-threshold", &threshold, "ordered", &ordered,
               "negotiated", &negotiated, "max-retransmits", &max_retransmits, "max-packet-lifetime",
               &max_lifetime, nullptr);
  std::string out = "{\"label\":";
  AppendJsonString(out, label.or_empty());
  out += ",\"protocol\":";
  AppendJsonString(out, protocol.or_empty());
  out += ",\"id\":" + std::to_string(id) + ",\"readyState\":";
  AppendJsonString(out, StateName(state));
  out += ",\"bufferedAmount\":" + std::to_string(buffered);
  out += ",\"bufferedAmountLowThreshold\":" + std::to_string(threshold);
  out += std::string(",\"ordered\":") + (ordered ? "true" : "false");
  out += std::string(",\"negotiated\":") + (negotiated ? "true" : "false");
  out += ",\"maxRetransmits\":" + std::to_string(max_retransmits);
  out += ",\"maxPacketLifeTime\":" + std::to_string(max_lifetime) + "}";
  return out;
}

std::string PeerCore::SctpInfoJson() {
  // webrtcbin's sctp-transport exists once a description with an application m-line is applied;
  // its max-message-size is the remote's a=max-message-size (65536 when absent, RFC 8841 §6.1).
  GstWebRTCSCTPTransport* raw = nullptr;
  g_object_get(webrtc_, "sctp-transport", &raw, nullptr);
  GObjectPtr<GstWebRTCSCTPTransport> sctp(raw);
  if (!sctp) return "null";
  guint64 max_message_size = 0;
  guint max_channels = 0;
  GstWebRTCSCTPTransportState state = GST_WEBRTC_SCTP_TRANSPORT_STATE_NEW;
  g_object_get(sctp.get(), "max-message-size", &max_message_size, "max-channels", &max_channels, "state", &state,
               nullptr);
  const char* states[] = {"new", "connecting", "connected", "closed"};
  std::string out = "{\"maxMessageSize\":" + std::to_string(max_message_size);
  out += ",\"maxChannels\":" + std::to_string(max_channels) + ",\"state\":";
  AppendJsonString(out, state >= 0 && state <= 3 ? states[state] : "closed");
  return out + "}";
}

}  // namespace wrtc
