#!/usr/bin/env python3
# Paint→capture, apart from our code: ximagesrc grabs the display (whole screen, as our pipeline does)
# at the stream's frame rate into an appsink; for each frame we write the wall-clock time it arrived
# and the top 32 rows (the clock row) to stdout. Node decodes them (bench/lib/capture-clock.ts).
#   capture_clock.py DISPLAY FPS FRAMES
import struct
import sys
import time

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

display, fps, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
Gst.init(None)
pipeline = Gst.parse_launch(
    f'ximagesrc display-name={display} use-damage=false show-pointer=false ! '
    f'video/x-raw,framerate={fps}/1 ! appsink name=sink sync=false max-buffers=1 drop=true'
)
sink = pipeline.get_by_name('sink')
pipeline.set_state(Gst.State.PLAYING)
out = sys.stdout.buffer
for _ in range(frames):
    sample = sink.emit('pull-sample')
    arrived = time.time() * 1000.0
    if sample is None:
        break
    s = sample.get_caps().get_structure(0)
    width = s.get_value('width')
    buffer = sample.get_buffer()
    ok, info = buffer.map(Gst.MapFlags.READ)
    strip = bytes(info.data[: width * 4 * 32])  # BGRx; the clock row is grey, so channel order is moot
    buffer.unmap(info)
    out.write(struct.pack('<dII', arrived, width, len(strip)) + strip)
    out.flush()
pipeline.set_state(Gst.State.NULL)
