// `node-webrtcbin/client`: the agent's end of signaling. SignalingClient speaks the daemon's protocol;
// publish() and receive() run one WebRtcPeer per participant of a session through it; view() is an
// agent's viewer of a VM session (frames, screenshots, waiting for the screen, input). Loading it
// loads ws and TypeBox (not Fastify); the root package loads neither.
export { publish, receive, Publisher, type PublishOptions, type PublisherEvents } from './publish/publisher.js';
export {
  SignalingClient,
  SignalingError,
  type SignalingClientOptions,
  type SignalingClientEvents,
  type SignalingState,
  type Logger,
  type BackoffOptions,
  type DisconnectInfo,
  type ProtocolErrorInfo,
} from './signaling/client.js';
export {
  view,
  RemoteView,
  type ViewOptions,
  type ViewVideoOptions,
  type RemoteViewEvents,
  type ViewState,
  type WaitForChangeOptions,
  type WaitForStillOptions,
  type Region,
  type ScreenshotOptions,
} from './agent/remote-view.js';
export { RemoteInput, InputError, type RemoteInputOptions, type RemoteInputEvents, type InputErrorReason, type MouseButton, type Point } from './agent/remote-input.js';
export { TimeoutError } from './errors.js';
// Janus: relay() pushes a stream once into a VideoRoom (publish({sfu}) does it beside the daemon); janode loads only then.
export { relay, Relay, type RelayOptions, type RelayEvents } from './sfu/relay.js';
export { JanusRelay, type JanusOptions, type JanusRelayEvents } from './sfu/janus-relay.js';
export { JanusRelayError, type JanusRelayFailure } from './sfu/relay-error.js';
