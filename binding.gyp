{
  "variables": {
    "gst_modules": "gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 gstreamer-app-1.0 gstreamer-video-1.0 gstreamer-rtp-1.0 x11 xtst xrandr xfixes"
  },
  "targets": [
    {
      "target_name": "webrtcbin",
      "sources": [
        "src-native/addon.cc",
        "src-native/peer.cc",
        "src-native/peer_core.cc",
        "src-native/x_capture_guard.cc",
        "src-native/gst_json.cc",
        "src-native/shared_encoder.cc",
        "src-native/encoder_bitrate.cc",
        "src-native/x_input.cc",
        "src-native/x_error_trap.cc",
        "src-native/x_clipboard.cc",
        "src-native/x_screen.cc",
        "src-native/playout_delay.cc",
        "src-native/sdp_guard.cc",
        "src-native/ice_agent.cc"
      ],
      "include_dirs": [
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
