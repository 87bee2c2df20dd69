{
  "variables": {
    "gst_modules": "gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 gstreamer-app-1.0 gstreamer-video-1.0 gstreamer-rtp-1.0 x11 xcb xcb-xtest xcb-randr xcb-xfixes xcb-damage xcb-shm"
  },
  "targets": [
    {
      "target_name": "webrtcbin",
      "sources": [
        "src-native/addon.cc",
        "src-native/peer/peer_wrap.cc",
        "src-native/peer/peer_core.cc",
        "src-native/peer/send.cc",
        "src-native/peer/negotiation.cc",
        "src-native/peer/receive.cc",
        "src-native/peer/frames.cc",
        "src-native/peer/data_channels.cc",
        "src-native/peer/bus.cc",
        "src-native/peer/teardown.cc",
        "src-native/x11/capture_guard.cc",
        "src-native/common/gst_json.cc",
        "src-native/common/latency_trace.cc",
        "src-native/encoder/shared_encoder.cc",
        "src-native/encoder/start_gate.cc",
        "src-native/encoder/native_encoder.cc",
        "src-native/common/addon_data.cc",
        "src-native/encoder/bitrate.cc",
        "src-native/x11/input.cc",
        "src-native/x11/error_trap.cc",
        "src-native/x11/clipboard.cc",
        "src-native/x11/screen.cc",
        "src-native/x11/damage_src.cc",
        "src-native/x11/frame_store.cc",
        "src-native/x11/pointer_nudge.cc",
        "src-native/x11/cursor.cc",
        "src-native/x11/x_worker.cc",
        "src-native/rtp/abs_capture_time.cc",
        "src-native/rtp/playout_delay.cc",
        "src-native/rtp/twcc_feedback.cc",
        "src-native/peer/sdp_guard.cc",
        "src-native/peer/ice_agent.cc",
        "src-native/peer/dtls_certificate.cc",
        "src-native/image/image_encoder.cc"
      ],
      "include_dirs": [
        "src-native",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wno-unused-parameter", "<!@(pkg-config --cflags <(gst_modules))"],
      "libraries": ["<!@(pkg-config --libs <(gst_modules))"]
    }
  ]
}
