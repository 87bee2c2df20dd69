#!/usr/bin/python3
# The plain-webrtcbin baseline: a minimal sender written with GStreamer's Python bindings (Debian
# python3-gi + gir1.2-gst-plugins-bad-1.0), the way GStreamer's own webrtc examples do it:
# parse_launch("<media description> ! webrtcbin"), offer on on-negotiation-needed, one pipeline
# (capture + encoder) per viewer. Same JSON-lines protocol on stdin/stdout as node-sender.mjs, and the
# same media description (lib/media/send.ts planSend(), passed as argv[1]) so only the layer around
# webrtcbin differs.
#   /usr/bin/python3 bench/baselines/python-sender.py '<planSend description>'
import json
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

Gst.init(None)
DESCRIPTION = sys.argv[1]
out_lock = threading.Lock()


def emit(message):
    with out_lock:
        sys.stdout.write(json.dumps(message) + '\n')
        sys.stdout.flush()


class Peer:
    def __init__(self, peer_id):
        self.id = peer_id
        self.pipe = Gst.parse_launch(f'{DESCRIPTION} ! webrtcbin name=webrtc bundle-policy=max-bundle')
        self.webrtc = self.pipe.get_by_name('webrtc')
        self.webrtc.connect('on-negotiation-needed', self.on_negotiation_needed)
        self.webrtc.connect('on-ice-candidate', self.on_ice_candidate)
        self.webrtc.connect('notify::connection-state', self.on_connection_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect('message::error', self.on_error)
        self.pipe.set_state(Gst.State.PLAYING)

    def on_negotiation_needed(self, element):
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, element, None)
        element.emit('create-offer', None, promise)

    def on_offer_created(self, promise, element, _):
        promise.wait()
        reply = promise.get_reply()  # PyGObject 3.42: keep the reply alive while reading the offer
        offer = reply.get_value('offer')
        element.emit('set-local-description', offer, Gst.Promise.new())
        emit({'type': 'offer', 'id': self.id, 'sdp': offer.sdp.as_text()})
        del reply

    def on_ice_candidate(self, _element, mline, candidate):
        emit({'type': 'candidate', 'id': self.id, 'candidate': {'candidate': candidate, 'sdpMLineIndex': mline}})

    def on_connection_state(self, element, _pspec):
        state = element.get_property('connection-state').value_nick
        emit({'type': 'state', 'id': self.id, 'state': state})

    def on_error(self, _bus, message):
        error, _debug = message.parse_error()
        emit({'type': 'error', 'id': self.id, 'message': error.message})

    def set_answer(self, sdp):
        _, message = GstSdp.SDPMessage.new_from_text(sdp)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        self.webrtc.emit('set-remote-description', answer, Gst.Promise.new())

    def add_candidate(self, candidate):
        if candidate and candidate.get('candidate'):
            self.webrtc.emit('add-ice-candidate', candidate.get('sdpMLineIndex') or 0, candidate['candidate'])

    def close(self):
        self.pipe.get_bus().remove_signal_watch()
        self.pipe.set_state(Gst.State.NULL)


peers = {}
loop = GLib.MainLoop()


def handle(message):
    kind = message.get('type')
    peer = peers.get(message.get('id'))
    try:
        if kind == 'join':
            peers[message['id']] = Peer(message['id'])
        elif kind == 'answer' and peer:
            peer.set_answer(message['sdp'])
        elif kind == 'candidate' and peer:
            peer.add_candidate(message.get('candidate'))
        elif kind == 'leave' and peer:
            del peers[message['id']]
            peer.close()
            emit({'type': 'left', 'id': message['id']})
        elif kind == 'leave':
            emit({'type': 'left', 'id': message.get('id')})
        elif kind == 'reset':
            for p in list(peers.values()):
                p.close()
            peers.clear()
            emit({'type': 'reset-done'})
        elif kind == 'stats':
            emit({'type': 'stats', 'encoder': None})
        elif kind == 'quit':
            loop.quit()
    except Exception as error:  # report, keep serving
        emit({'type': 'error', 'id': message.get('id'), 'message': str(error)})
    return False


def read_stdin():
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        GLib.idle_add(handle, message)
    GLib.idle_add(loop.quit)


threading.Thread(target=read_stdin, daemon=True).start()
emit({'type': 'ready'})
loop.run()
for p in list(peers.values()):
    p.close()
