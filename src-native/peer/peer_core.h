// The GStreamer side of one peer: pipeline, webrtcbin, its signals, bus and promises. Everything here
// may run on GStreamer threads except where marked "JS thread"; results leave only through `pipe`.
// No JS state lives here (promises, the wrapper: see PeerJs in peer_wrap.h).
#pragma once

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "encoder/bitrate.h"
#include "common/event_pipe.h"
#include "common/native_error.h"
#include "peer/frame.h"
#include "peer/peer_event.h"
#include "encoder/shared_encoder.h"
#include "encoder/start_gate.h"
#include "x11/capture_guard.h"
#include "common/gobject_ptr.h"
#include "rtp/abs_capture_time.h"
#include "rtp/playout_delay.h"

namespace wrtc {

struct PeerConfig {
  // A peer fed by a shared encoder (a NativeEncoder): its sendDescription starts with "appsrc name=encsrc".
  std::shared_ptr<SharedEncoder> encoder;
  std::string sendDescription;     // gst-launch fragment ending in an RTP payloader; empty: sends nothing
  std::string sendCaps;            // codec preferences of the send transceiver
  std::string sendAudioDescription;  // raw audio source → Opus → payloader named "apay"; empty: no audio
  std::string sendAudioCaps;         // codec preferences of the audio send transceiver
  // The receive side, planned in lib/media/receive.ts: gst-launch fragments each remote stream is
  // linked to, each ending in an appsink ("frames" for video, "audio" for audio).
  std::string receiveCaps;         // codec preferences of a recv-only video transceiver; empty: none
  std::string receiveVideoDescription;  // decoded video → appsink "frames"; empty: discarded
  // Compressed access, by encoding name (VP8, VP9, H264): RTP → depayloader → appsink "frames".
  std::map<std::string, std::string> receiveEncodedDescriptions;
  bool receiveEncoded() const { return !receiveEncodedDescriptions.empty(); }
  std::string receiveAudioCaps;    // codec preferences of a recv-only audio transceiver; empty: none
  std::string receiveAudioDescription;  // decoded audio → appsink "audio"; empty: discarded
  std::string stunServer;          // stun://host:port
  std::vector<std::string> turnServers;  // turn(s)://user:pass@host:port?transport=...
  std::string iceTransportPolicy;  // "all" | "relay"
  std::string bundlePolicy;        // "max-bundle" | "max-compat" | "balanced" | "none"
  int latencyMs = 0;               // receive jitter buffer
  int64_t minFrameIntervalNs = 0;  // maxFps for frames handed to JS (0: every frame)
  bool nack = true;
  int fecPercentage = 0;           // > 0: ULPFEC + RED on the video send transceiver, this much redundancy
};

// A new pipeline (a reference we own) on the system clock: every peer and shared encoder runs on one.
GstElement* NewPipeline();

// A gst-launch description from lib/media/ as a bin (floating ref), its unlinked pads ghosted when
// `ghost_unlinked`; null with `error` set (ERR_MISSING_PLUGIN naming the element, or ERR_PIPELINE).
// `what` names the fragment in the message ("source", "encoder", "receive").
GstElement* ParseDescription(const std::string& description, const char* what, bool ghost_unlinked,
                             NativeError* error);

class PeerCore : public std::enable_shared_from_this<PeerCore> {
 public:
  explicit PeerCore(PeerConfig config);
  ~PeerCore();
  // webrtcbin elements created and not yet finalized in this process (tests and leak checks read it).
  static int64_t Alive() { return alive_.load(); }
  PeerCore(const PeerCore&) = delete;
  PeerCore& operator=(const PeerCore&) = delete;

  // JS thread. Creates the elements and connects every handler; no state change yet.
  bool Build(NativeError* error);
  // JS thread. The order that makes request_pad_simple succeed: static part linked, PAUSED (and
  // waited for), then the sink pad is requested and linked, then PLAYING.
  bool Start(NativeError* error);

  // JS thread. Each settles later through a PromiseReply event carrying `id`.
  void CreateOffer(uint64_t id);
  void CreateAnswer(uint64_t id);
  bool SetDescription(bool local, const std::string& type, const std::string& sdp, uint64_t id,
                      NativeError* error);
  bool AddIceCandidate(uint32_t mline, const std::string& candidate, NativeError* error);
  void GetStats(uint64_t id);
  std::string GetDescription(const char* property);
  std::string GetState(const char* property);
  void RecalculateLatency();
  // JS thread: retarget a send stream's RTP caps (payload type) to what a remote offer uses.
  bool SetSendPayloadType(bool audio, int payload_type, const std::string& preferences);
  // JS thread: a remote offer's payload types for the receive transceiver (1.22 matches exactly).
  bool SetReceivePreferences(const std::string& caps);
  // JS thread: write the playout-delay header extension (negotiated extmap `id`) on the video stream.
  bool EnablePlayoutDelay(int id, int min_ms, int max_ms);
  // JS thread: the abs-capture-time extension was negotiated with extmap `id`: written on the video we
  // send, read from the video we receive (Frame.captureTime). True when it is written.
  bool EnableAbsCaptureTime(int id);
  // JS thread: let the held encoded stream flow into webrtcbin (idempotent).
  void ReleaseMedia();
  // JS thread, open peer: the video encoder's target bitrate (own media bin), kbit/s; -1 when this
  // pipeline holds no encoder (a peer fed by a shared encoder: the NativeEncoder has it).
  int SetBitrate(int kbps) { return SetEncoderBitrate(media_, kbps); }
  int GetBitrate() { return GetEncoderBitrate(media_); }
  uint64_t FramesDecoded() const { return frames_decoded_.load(); }
  uint64_t FramesDropped() const { return frames_dropped_.load(); }
  uint64_t FramesSkipped() const { return frames_skipped_.load(); }
  // JS thread: the frame to hand over now (the newest decoded one, or the oldest compressed one);
  // null if none, or if JS no longer wants one.
  std::unique_ptr<MappedFrame> TakeFrame();
  // JS thread: whether JS wants frames now: `listening` ('frame' listeners: frames cross as they
  // arrive), `waiting` (an iterator in next(): what waits here crosses now). Otherwise frames wait.
  void WantFrames(bool listening, bool waiting);
  // Compressed frames kept for JS at most (the oldest are dropped beyond): 10 s at 30 fps.
  static constexpr size_t kMaxQueuedEncodedFrames = 300;

  // Data channels (JS thread). Returns the channel key, or 0 when webrtcbin refused.
  uint64_t CreateDataChannel(const std::string& label, const std::string& optionsStructure);
  // False with `error` set (ERR_DATA_CHANNEL_TOO_LARGE, ERR_INVALID_STATE, ERR_DATA_CHANNEL_SEND).
  bool SendOnChannel(uint64_t key, const std::string& text, const void* data, size_t size, bool binary,
                     NativeError* error);
  void CloseChannel(uint64_t key);
  void SetChannelLowThreshold(uint64_t key, uint64_t bytes);
  std::string ChannelInfoJson(uint64_t key);
  // webrtcbin's SCTP transport (max-message-size, max-channels, state) as JSON; "null" before one exists.
  std::string SctpInfoJson();

  // JS thread: stop handlers and hand the slow teardown (state change to NULL) to a thread of its own.
  void BeginClose();
  bool closing() const { return closing_.load(); }
  // Any thread but a streaming one; idempotent. Disconnects, pipeline to NULL, bus off, unref.
  void Teardown();
  // JS thread, from the TSFN finalizer: wait for the teardown thread, or tear down now (env exit).
  void FinishTeardown();

  // Everything that leaves for JS (events, promise replies) goes through here.
  EventPipe<PeerEvent> pipe;

  // Called through static trampolines from GStreamer threads.
  void OnNegotiationNeeded();
  void OnIceCandidate(guint mline, const gchar* candidate);
  void OnStateNotify(GObject* object, GParamSpec* pspec);
  void AskKeyframeOnceConnected();
  void OnPadAdded(GstPad* pad);
  void OnDecodedPad(GstPad* pad);
  GstFlowReturn OnSample(GstElement* appsink);
  GstFlowReturn OnAudioSample(GstElement* appsink);
  void OnDataChannel(GstWebRTCDataChannel* channel);
  void OnBusMessage(GstMessage* message);
  void OnPromise(GstPromise* promise, uint64_t id, const char* field);
  void WatchChannel(uint64_t key, GstWebRTCDataChannel* channel);

 private:
  void Connect(gpointer instance, const char* signal, GCallback callback);
  void DisconnectAll();
  GstPromise* NewPromise(uint64_t id, const char* field);
  void EmitWithPromise(const char* signal, gpointer argument, uint64_t id, const char* field);
  uint64_t RegisterChannel(GstWebRTCDataChannel* channel);
  GObjectPtr<GstWebRTCDataChannel> FindChannel(uint64_t key);  // null once closed or unknown

  PeerConfig config_;
  GObjectPtr<GstElement> pipeline_;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
  GstElement* media_ = nullptr;   // owned by pipeline_
  // Our own encoder's payloader input (mutex_): a keyframe is asked there once the connection is up.
  GObjectPtr<GstPad> keyframe_pad_;
  bool connected_once_ = false;  // mutex_
  // A shared-encoder peer's start (encoder/start_gate.h): the join's keyframe and a few frames after it
  // wait in webrtcbin for DTLS, so the first RTP leaves as soon as it is up; a fresh keyframe is asked
  // at connect only when that hold overflowed.
  std::shared_ptr<StartGate> start_gate_ = std::make_shared<StartGate>();
  std::atomic<bool> closing_{false};
  std::atomic<uint64_t> frames_decoded_{0};
  std::atomic<uint64_t> frames_dropped_{0};  // replaced before JS took them (slow consumer)
  std::atomic<uint64_t> frames_skipped_{0};  // not handed over because of maxFps
  int64_t last_frame_ns_ = 0;                // streaming thread only
  std::mutex frame_mutex_;
  std::deque<std::unique_ptr<MappedFrame>> pending_frames_;  // frame_mutex_
  bool frame_posted_ = false;                                 // frame_mutex_: a Frame event in flight
  bool frames_wanted_ = false;                                // frame_mutex_: set by WantFrames

  // A send stream: its bin, where it is held until negotiation starts, and its transceiver.
  struct SendStream {
    GstElement* bin = nullptr;  // owned by pipeline_
    const char* payloader = nullptr;
    GObjectPtr<GstPad> hold_pad;
    gulong hold_probe = 0;
    GObjectPtr<GstWebRTCRTPTransceiver> transceiver;
  };
  SendStream video_send_;
  PlayoutDelayWriter playout_delay_;
  AbsCaptureTimeWriter abs_capture_writer_;
  AbsCaptureTimeReader abs_capture_reader_;
  SendStream audio_send_;
  GstElement* ParseBin(const std::string& description, const char* name, const char* what, bool ghost_src,
                       NativeError* error);
  GstPad* Hold(SendStream& stream);
  bool LinkToWebrtc(SendStream& stream, GstPad* src, const std::string& caps, NativeError* error);
  GObjectPtr<GstWebRTCRTPTransceiver> receive_transceiver_;
  XCaptureGuard capture_guard_;         // X captures that must not exit the process
  GObjectPtr<GstElement> encoder_src_;  // the appsrc a shared encoder feeds
  GstElement* SinkBin(const std::string& description, const char* sink_name,
                      GstFlowReturn (*on_sample)(GstAppSink*, gpointer));
  void AttachTail(GstPad* pad, GstElement* tail);
  std::mutex mutex_;  // guards handlers_, channels_, torn_down_, start_cause_, the send streams' holds
  std::vector<std::pair<GObjectPtr<GObject>, gulong>> handlers_;
  std::map<uint64_t, GObjectPtr<GstWebRTCDataChannel>> channels_;
  uint64_t next_channel_ = 1;
  bool torn_down_ = false;
  NativeError start_cause_;  // the first bus error: why a failed Start failed
  std::thread teardown_thread_;
  static std::atomic<int64_t> alive_;
};

}  // namespace wrtc
