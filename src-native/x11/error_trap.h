// Our own X connections (input, screen, clipboard) speak xcb, never Xlib: xcb_connect takes no
// process-wide lock, so none of ours can hold Xlib's global lock while the server answers only
// ximagesrc's grab (the deadlock in docs/reliability.md), nor evict ximagesrc's Xlib extension caches.
// xcb reports a protocol error on the request that caused it and a dead server as a connection
// error; nothing here can end the process. ximagesrc's own Xlib Display is capture_guard's.
#pragma once

#include <xcb/xcb.h>

#include <string>

namespace wrtc {

struct XErrorRecord {
  int code = 0;           // 0: none
  int request_code = 0;  // major opcode of the failed request
  int minor_code = 0;
};

// An open connection and its default screen; both null when the display cannot be opened (`name`
// empty: $DISPLAY). The screen points into the connection's setup: valid until xcb_disconnect.
struct XConnection {
  xcb_connection_t* connection = nullptr;
  xcb_screen_t* screen = nullptr;
};
XConnection ConnectX(const std::string& name);

// Waits for a checked request (…_checked) and returns its error, if any.
XErrorRecord CheckRequest(xcb_connection_t* connection, xcb_void_cookie_t cookie);
// The error of a reply that did not come (frees it).
XErrorRecord TakeError(xcb_generic_error_t* error);

// The server closed the connection or it broke: every request after it is a no-op.
inline bool Lost(xcb_connection_t* connection) { return !connection || xcb_connection_has_error(connection) != 0; }

}  // namespace wrtc
