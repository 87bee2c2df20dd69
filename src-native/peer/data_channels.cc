// Data channels: webrtcbin's channel objects kept by key, their signals as events, sends and closes.
#include "peer/peer_core.h"

#include "common/gst_json.h"
#include "peer/trampolines.h"

namespace wrtc {

using namespace trampolines;

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
                           Handler{"on-message-string", G_CALLBACK(ChannelStringCb)},
                           Handler{"on-message-data", G_CALLBACK(ChannelDataCb)}}) {
    gulong id = g_signal_connect_data(channel, h.signal, h.callback,
                                      new ChannelHandlerData{weak_from_this(), key}, FreeChannelData,
                                      GConnectFlags(0));
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.emplace_back(GObjectPtr<GObject>::ref(G_OBJECT(channel)), id);
  }
}

void PeerCore::OnDataChannel(GstWebRTCDataChannel* channel) {
  if (closing_) return;
  uint64_t key = RegisterChannel(channel);
  GCharPtr label;
  g_object_get(channel, "label", label.out(), nullptr);
  pipe.Post(event::DataChannel{key, label.or_empty()});
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

bool PeerCore::SendOnChannel(uint64_t key, const std::string& text, const void* data, size_t size, bool binary) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return false;
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  if (binary) {
    GBytes* bytes = g_bytes_new(data, size);
    g_signal_emit_by_name(channel.get(), "send-data", bytes);
    g_bytes_unref(bytes);
  } else {
    g_signal_emit_by_name(channel.get(), "send-string", text.c_str());
  }
  return true;
}

void PeerCore::CloseChannel(uint64_t key) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return;
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  g_signal_emit_by_name(channel.get(), "close");
}

std::string PeerCore::ChannelInfoJson(uint64_t key) {
  GObjectPtr<GstWebRTCDataChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = channels_.find(key);
    if (it == channels_.end()) return "null";
    channel = GObjectPtr<GstWebRTCDataChannel>::ref(it->second.get());
  }
  GCharPtr label, protocol;
  gint id = -1;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;
  guint64 buffered = 0;
  gboolean ordered = TRUE;
  g_object_get(channel.get(), "label", label.out(), "protocol", protocol.out(), "id", &id, "ready-state", &state,
               "buffered-amount", &buffered, "ordered", &ordered, nullptr);
  const char* states[] = {"", "connecting", "open", "closing", "closed"};
  std::string out = "{\"label\":";
  AppendJsonString(out, label.or_empty());
  out += ",\"protocol\":";
  AppendJsonString(out, protocol.or_empty());
  out += ",\"id\":" + std::to_string(id) + ",\"readyState\":";
  AppendJsonString(out, state >= 1 && state <= 4 ? states[state] : "closed");
  out += ",\"bufferedAmount\":" + std::to_string(buffered) + ",\"ordered\":" + (ordered ? "true" : "false") + "}";
  return out;
}

}  // namespace wrtc
