// Which Debian 12 package provides each GStreamer element the features use. The doctor and
// MissingPluginError name these; test/unit checks each is listed in rootfs/packages.txt.

export interface RequiredElement {
  element: string;
  debianPackage: string;
  feature: string;
  /** Needed by every peer (vs. only by some options). */
  core: boolean;
}

export const ELEMENTS: readonly RequiredElement[] = [
  { element: 'webrtcbin', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'WebRTC peer', core: true },
  { element: 'nicesrc', debianPackage: 'gstreamer1.0-nice', feature: 'ICE (libnice)', core: true },
  { element: 'nicesink', debianPackage: 'gstreamer1.0-nice', feature: 'ICE (libnice)', core: true },
  { element: 'dtlssrtpenc', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'DTLS-SRTP', core: true },
  { element: 'dtlssrtpdec', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'DTLS-SRTP', core: true },
  { element: 'srtpenc', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'SRTP (libsrtp2)', core: true },
  { element: 'srtpdec', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'SRTP (libsrtp2)', core: true },
  { element: 'sctpenc', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'data channels (usrsctp)', core: true },
  { element: 'sctpdec', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'data channels (usrsctp)', core: true },
  { element: 'rtpbin', debianPackage: 'gstreamer1.0-plugins-good', feature: 'RTP sessions', core: true },
  { element: 'rtpfunnel', debianPackage: 'gstreamer1.0-plugins-good', feature: 'RTP bundling', core: true },
  { element: 'videoconvert', debianPackage: 'gstreamer1.0-plugins-base', feature: 'colour conversion', core: true },
  { element: 'videoscale', debianPackage: 'gstreamer1.0-plugins-base', feature: 'scaling', core: true },
  { element: 'videorate', debianPackage: 'gstreamer1.0-plugins-base', feature: 'frame rate', core: true },
  { element: 'queue', debianPackage: 'gstreamer1.0-tools', feature: 'pipeline core', core: true },
  { element: 'videotestsrc', debianPackage: 'gstreamer1.0-plugins-base', feature: 'test source', core: false },
  // X11 capture 'fixed'. Capture 'damage' is webrtcbinxdamagesrc, built into the addon: no package, never missing.
  { element: 'ximagesrc', debianPackage: 'gstreamer1.0-x', feature: 'X11 capture', core: false },
  { element: 'vp8enc', debianPackage: 'gstreamer1.0-plugins-good', feature: 'VP8 encode', core: false },
  { element: 'rtpvp8pay', debianPackage: 'gstreamer1.0-plugins-good', feature: 'VP8 RTP', core: false },
  { element: 'vp9enc', debianPackage: 'gstreamer1.0-plugins-good', feature: 'VP9 encode', core: false },
  { element: 'rtpvp9pay', debianPackage: 'gstreamer1.0-plugins-good', feature: 'VP9 RTP', core: false },
  { element: 'x264enc', debianPackage: 'gstreamer1.0-plugins-ugly', feature: 'H.264 encode (x264)', core: false },
  { element: 'openh264enc', debianPackage: 'gstreamer1.0-plugins-bad', feature: 'H.264 encode (openh264)', core: false },
  { element: 'rtph264pay', debianPackage: 'gstreamer1.0-plugins-good', feature: 'H.264 RTP', core: false },
  { element: 'decodebin', debianPackage: 'gstreamer1.0-plugins-base', feature: 'receive: decoding', core: false },
  { element: 'appsink', debianPackage: 'gstreamer1.0-plugins-base', feature: 'receive: frames to Node', core: false },
  { element: 'vp8dec', debianPackage: 'gstreamer1.0-plugins-good', feature: 'receive: VP8', core: false },
  { element: 'vp9dec', debianPackage: 'gstreamer1.0-plugins-good', feature: 'receive: VP9', core: false },
  { element: 'avdec_h264', debianPackage: 'gstreamer1.0-libav', feature: 'receive: H.264', core: false },
  { element: 'opusdec', debianPackage: 'gstreamer1.0-plugins-base', feature: 'receive: Opus audio', core: false },
  { element: 'opusenc', debianPackage: 'gstreamer1.0-plugins-base', feature: 'audio: Opus', core: false },
  { element: 'rtpopuspay', debianPackage: 'gstreamer1.0-plugins-good', feature: 'audio: Opus RTP', core: false },
];

const BY_ELEMENT = new Map(ELEMENTS.map((e) => [e.element, e.debianPackage]));

// Elements users may name in their own pipeline descriptions, beyond the table above.
const EXTRA = new Map<string, string>(Object.entries({
  v4l2src: 'gstreamer1.0-plugins-good',
  pulsesrc: 'gstreamer1.0-plugins-good', // Debian 12 ships the pulseaudio plugin in plugins-good
  audiotestsrc: 'gstreamer1.0-plugins-base',
  audioconvert: 'gstreamer1.0-plugins-base',
  audioresample: 'gstreamer1.0-plugins-base',
  capsfilter: 'gstreamer1.0-tools',
  identity: 'gstreamer1.0-tools',
  fakesink: 'gstreamer1.0-tools',
  tee: 'gstreamer1.0-tools',
}));

export function packageFor(element: string): string | undefined {
  return BY_ELEMENT.get(element) ?? EXTRA.get(element);
}
