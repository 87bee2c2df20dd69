// RTP header extension ids in an SDP (bundle-safe: no imports; the viewer uses it through abs-capture-time).

/**
 * The id an SDP's first video section gives the extension `uri` (`a=extmap:<id>[/<direction>] <uri>`),
 * when it is one we can write: 1–14, the one-byte header form. A remote's other number is treated as
 * absent, so it never reaches a payloader's caps.
 */
export function videoExtmapId(sdp: string, uri: string): number | undefined {
  const video = sdp.split(/\r?\n(?=m=)/).find((section) => section.startsWith('m=video'));
  const match = video && new RegExp(`^a=extmap:(\\d+)(?:/\\w+)? ${uri.replace(/[./]/g, '\\$&')}\\s*$`, 'm').exec(video);
  const id = match ? Number(match[1]) : undefined;
  return id !== undefined && id >= 1 && id <= 14 ? id : undefined;
}
