#include "x11/error_trap.h"

#include <cstdlib>

namespace wrtc {

XConnection ConnectX(const std::string& name) {
  int screen_number = 0;
  xcb_connection_t* connection = xcb_connect(name.empty() ? nullptr : name.c_str(), &screen_number);
  if (xcb_connection_has_error(connection)) {
    xcb_disconnect(connection);  // frees the error object xcb_connect returns instead of null
    return {};
  }
  xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(connection));
  for (int i = 0; i < screen_number && it.rem; ++i) xcb_screen_next(&it);
  if (!it.rem) {
    xcb_disconnect(connection);
    return {};
  }
  return {connection, it.data};
}

XErrorRecord TakeError(xcb_generic_error_t* error) {
  if (!error) return {};
  XErrorRecord out{error->error_code, error->major_code, error->minor_code};
  free(error);
  return out;
}

XErrorRecord CheckRequest(xcb_connection_t* connection, xcb_void_cookie_t cookie) {
  return TakeError(xcb_request_check(connection, cookie));
}

}  // namespace wrtc
