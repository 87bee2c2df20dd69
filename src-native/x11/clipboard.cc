#include "x11/clipboard.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include <xcb/xcb.h>
#include <xcb/xfixes.h>

#include "x11/error_trap.h"
#include "x11/x_worker.h"

namespace wrtc {

namespace {

// Text fetched from another client is read in one piece of at most this size; bigger texts, and
// owners that insist on the incremental (INCR) protocol, are refused with a warning.
constexpr long kMaxFetchBytes = 1 << 20;
// An owner that has not answered a conversion by then is given up on.
constexpr int kFetchTimeoutMs = 2000;

// The events of the clipboard, as the TS union NativeClipboardEvent (lib/native/binding.ts).
namespace event {
// Another client put this text on the clipboard.
struct Text {
  static constexpr const char* kType = "text";
  std::string text;
  void ToJs(Napi::Object& o) const { o.Set("text", text); }
};
// A text could not be fetched or set (x_event::Warning); the display went away (x_event::Error).
using x_event::Error;
using x_event::Warning;
}  // namespace event


std::string Latin1ToUtf8(const unsigned char* data, unsigned long n) {
  std::string out;
  out.reserve(n);
  for (unsigned long i = 0; i < n; ++i) {
    unsigned char c = data[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// STRING is ISO Latin-1 (ICCCM): characters beyond it become '?'.
std::string Utf8ToLatin1(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
    if (extra == 1 && i + 1 < in.size() && c <= 0xC3) {
      out += static_cast<char>(((c & 0x1F) << 6) | (static_cast<unsigned char>(in[i + 1]) & 0x3F));
    } else {
      out += c < 0x80 ? static_cast<char>(c) : '?';
    }
    i += 1 + extra;
  }
  return out;
}

}  // namespace

class ClipboardCore final : public XWorker {
 public:
  using Event = std::variant<event::Text, event::Warning, event::Error>;


  // JS thread, before the thread starts: everything that can fail, so the constructor can throw.
  bool Open(const std::string& name, std::string* error) {
    XConnection x = ConnectX(name);
    if (!x.connection) {
      *error = "cannot open X display " + name + " for the clipboard (is DISPLAY right and the server running?)";
      return false;
    }
    c_ = x.connection;
    const xcb_query_extension_reply_t* fixes = xcb_get_extension_data(c_, &xcb_xfixes_id);
    if (!fixes || !fixes->present) {
      *error = "the X server " + name + " has no XFIXES extension: clipboard changes cannot be watched";
      Shutdown();
      return false;
    }
    fixes_event_base_ = fixes->first_event;
    // XFixes serves a client only once it has said which version it speaks.
    free(xcb_xfixes_query_version_reply(c_, xcb_xfixes_query_version(c_, 5, 0), nullptr));
    if (!OpenWake("clipboard", error)) {
      Shutdown();
      return false;
    }
    const char* names[] = {"CLIPBOARD", "TARGETS", "UTF8_STRING", "TEXT", "INCR", "WEBRTCBIN_CLIPBOARD", "WEBRTCBIN_TIMESTAMP"};
    xcb_intern_atom_cookie_t cookies[7];
    for (int i = 0; i < 7; ++i) cookies[i] = xcb_intern_atom(c_, 0, static_cast<uint16_t>(strlen(names[i])), names[i]);
    xcb_atom_t atoms[7] = {};
    for (int i = 0; i < 7; ++i) {
      xcb_intern_atom_reply_t* reply = xcb_intern_atom_reply(c_, cookies[i], nullptr);
      if (reply) atoms[i] = reply->atom;
      free(reply);
    }
    clipboard_ = atoms[0];
    targets_ = atoms[1];
    utf8_ = atoms[2];
    text_ = atoms[3];
    incr_ = atoms[4];
    transfer_ = atoms[5];
    stamp_ = atoms[6];
    xcb_window_t root = x.screen->root;
    // Never mapped: a window only to own the selection and receive converted text.
    window_ = xcb_generate_id(c_);
    uint32_t events = XCB_EVENT_MASK_PROPERTY_CHANGE;
    xcb_void_cookie_t created = xcb_create_window_checked(c_, XCB_COPY_FROM_PARENT, window_, root, -10, -10, 1, 1, 0,
                                                          XCB_WINDOW_CLASS_INPUT_OUTPUT, x.screen->root_visual,
                                                          XCB_CW_EVENT_MASK, &events);
    xcb_void_cookie_t watched = xcb_xfixes_select_selection_input_checked(
        c_, root, clipboard_, XCB_XFIXES_SELECTION_EVENT_MASK_SET_SELECTION_OWNER);
    bool refused = CheckRequest(c_, created).code != 0;
    refused = CheckRequest(c_, watched).code != 0 || refused;
    if (refused || Lost(c_) || !clipboard_) {
      *error = "the X server " + name + " refused the clipboard window";
      Shutdown();
      return false;
    }
    return true;
  }

  // Any thread: the X thread picks these up at its next wake-up.
  void SetText(std::string text) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_text_ = std::move(text);
    Wake();
  }
  void RequestFetch() {
    std::lock_guard<std::mutex> lock(mutex_);
    fetch_requested_ = true;
    Wake();
  }
  // Events for JS; the X thread releases it when it ends.
  EventPipe<Event> pipe;

 private:

  void Warn(const char* code, std::string message) { pipe.Post(event::Warning{code, std::move(message)}); }

  void Run() override {
    while (!Stopping()) {
      std::optional<std::string> text;
      bool fetch;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        text.swap(pending_text_);
        fetch = fetch_requested_;
        fetch_requested_ = false;
      }
      if (text) AskForTimestamp(std::move(*text));
      if (fetch) {
        xcb_window_t owner = Owner();
        if (owner != XCB_NONE && owner != window_) StartFetch(XCB_CURRENT_TIME);
      }
      // xcb may already hold events read along with a reply: drain its queue before sleeping. Errors
      // of unchecked requests come as events (code 0), e.g. BadWindow from a requestor that vanished:
      // nothing to do about them.
      while (xcb_generic_event_t* event = xcb_poll_for_event(c_)) {
        if (event->response_type != 0) Handle(event);
        free(event);
      }
      if (Lost(c_)) {
        pipe.Post(event::Error{"ERR_X_DISPLAY_LOST", "the X display of the clipboard went away"});
        break;
      }
      int timeout = -1;
      if (fetching_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(fetch_deadline_ - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
          fetching_ = false;
          Warn("ERR_CLIPBOARD_TIMEOUT", "the X clipboard owner did not hand over its text within 2 s");
        } else {
          timeout = static_cast<int>(left);
        }
      }
      if (!Sleep(c_, timeout)) {
        pipe.Post(event::Error{"ERR_X_DISPLAY_LOST", "poll failed on the X clipboard connection"});
        break;
      }
    }
    Shutdown();
    pipe.Release();
  }

  // X thread (or the JS thread before it starts). After a lost connection xcb_disconnect only frees
  // memory.
  void Shutdown() {
    if (!c_) return;
    if (!Lost(c_) && window_) {
      xcb_destroy_window(c_, window_);
      xcb_flush(c_);
    }
    xcb_disconnect(c_);
    c_ = nullptr;
  }

  xcb_window_t Owner() {
    xcb_get_selection_owner_reply_t* reply = xcb_get_selection_owner_reply(c_, xcb_get_selection_owner(c_, clipboard_), nullptr);
    xcb_window_t owner = reply ? reply->owner : XCB_NONE;
    free(reply);
    return owner;
  }

  void Handle(xcb_generic_event_t* event) {
    uint8_t type = event->response_type & 0x7f;  // the top bit: sent by a client (SendEvent)
    if (type == fixes_event_base_ + XCB_XFIXES_SELECTION_NOTIFY) {
      auto* notify = reinterpret_cast<xcb_xfixes_selection_notify_event_t*>(event);
      // Our own ownership is announced too; only another client's text is news.
      if (notify->selection == clipboard_ && notify->owner != XCB_NONE && notify->owner != window_) {
        StartFetch(notify->selection_timestamp);
      }
      return;
    }
    switch (type) {
      case XCB_SELECTION_REQUEST:
        Answer(*reinterpret_cast<xcb_selection_request_event_t*>(event));
        break;
      case XCB_SELECTION_CLEAR:
        if (reinterpret_cast<xcb_selection_clear_event_t*>(event)->selection == clipboard_) {
          owned_ = false;
          owned_text_.clear();
          owned_text_.shrink_to_fit();
        }
        break;
      case XCB_SELECTION_NOTIFY: {
        auto* notify = reinterpret_cast<xcb_selection_notify_event_t*>(event);
        if (notify->selection == clipboard_ && notify->requestor == window_) Receive(*notify);
        break;
      }
      case XCB_PROPERTY_NOTIFY: {
        auto* property = reinterpret_cast<xcb_property_notify_event_t*>(event);
        if (property->window == window_ && property->atom == stamp_ && pending_own_) TakeOwnership(property->time);
        break;
      }
      default:
        break;
    }
  }

  // ICCCM: take a selection with a real server time, not CurrentTime. A zero-length append to our
  // own window yields one (PropertyNotify), without blocking this thread on a round trip.
  void AskForTimestamp(std::string text) {
    pending_own_text_ = std::move(text);
    pending_own_ = true;
    xcb_change_property(c_, XCB_PROP_MODE_APPEND, window_, stamp_, XCB_ATOM_STRING, 8, 0, nullptr);
  }

  void TakeOwnership(xcb_timestamp_t time) {
    pending_own_ = false;
    xcb_set_selection_owner(c_, window_, clipboard_, time);
    if (Owner() != window_) {
      Warn("ERR_CLIPBOARD_OWNER", "another X client took the clipboard first; the text was not set");
      pending_own_text_.clear();
      return;
    }
    owned_ = true;
    owned_text_ = std::move(pending_own_text_);
    pending_own_text_.clear();
  }

  void Answer(const xcb_selection_request_event_t& request) {
    // SendEvent takes a full 32-byte event; the SelectionNotify struct is shorter.
    union {
      xcb_selection_notify_event_t notify;
      char bytes[32];
    } reply{};
    reply.notify.response_type = XCB_SELECTION_NOTIFY;
    reply.notify.requestor = request.requestor;
    reply.notify.selection = request.selection;
    reply.notify.target = request.target;
    reply.notify.time = request.time;
    reply.notify.property = XCB_NONE;  // None = refused
    // Obsolete clients pass no property: the target's name is used (ICCCM).
    xcb_atom_t property = request.property == XCB_NONE ? request.target : request.property;
    if (owned_ && request.selection == clipboard_ && request.owner == window_) {
      if (request.target == targets_) {
        xcb_atom_t list[] = {targets_, utf8_, XCB_ATOM_STRING, text_};
        xcb_change_property(c_, XCB_PROP_MODE_REPLACE, request.requestor, property, XCB_ATOM_ATOM, 32, 4, list);
        reply.notify.property = property;
      } else if (request.target == utf8_ || request.target == text_ || request.target == XCB_ATOM_STRING) {
        std::string latin1;
        const std::string& data = request.target == XCB_ATOM_STRING ? (latin1 = Utf8ToLatin1(owned_text_)) : owned_text_;
        // One request must carry it all (no INCR from our side): refuse what does not fit. The limit is
        // BIG-REQUESTS' when the server has it; xcb would close the connection on a longer request.
        long max_units = static_cast<long>(xcb_get_maximum_request_length(c_));
        if (static_cast<long>(data.size()) < max_units * 4 - 64) {
          xcb_change_property(c_, XCB_PROP_MODE_REPLACE, request.requestor, property,
                              request.target == XCB_ATOM_STRING ? xcb_atom_t{XCB_ATOM_STRING} : utf8_, 8,
                              static_cast<uint32_t>(data.size()), data.data());
          reply.notify.property = property;
        }
      }
    }
    xcb_send_event(c_, 0, request.requestor, XCB_EVENT_MASK_NO_EVENT, reply.bytes);
  }

  void StartFetch(xcb_timestamp_t time) {
    fetch_target_ = utf8_;
    fetch_time_ = time;
    fetching_ = true;
    fetch_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFetchTimeoutMs);
    xcb_convert_selection(c_, window_, clipboard_, utf8_, transfer_, time);
  }

  void Receive(const xcb_selection_notify_event_t& notify) {
    if (!fetching_) return;
    if (notify.property == XCB_NONE) {
      if (fetch_target_ == utf8_) {  // older clients only speak Latin-1 STRING
        fetch_target_ = XCB_ATOM_STRING;
        xcb_convert_selection(c_, window_, clipboard_, XCB_ATOM_STRING, transfer_, fetch_time_);
        return;
      }
      fetching_ = false;
      Warn("ERR_CLIPBOARD_NOT_TEXT", "the X clipboard holds no text (its owner offers neither UTF8_STRING nor STRING)");
      return;
    }
    fetching_ = false;
    xcb_get_property_reply_t* reply = xcb_get_property_reply(
        c_, xcb_get_property(c_, 0, window_, notify.property, XCB_GET_PROPERTY_TYPE_ANY, 0, kMaxFetchBytes / 4), nullptr);
    if (!reply || Lost(c_)) {
      free(reply);
      return;
    }
    xcb_atom_t type = reply->type;
    int format = reply->format;
    uint32_t after = reply->bytes_after;
    auto* data = static_cast<const unsigned char*>(xcb_get_property_value(reply));
    auto count = static_cast<unsigned long>(xcb_get_property_value_length(reply));
    std::string text;
    const char* refused = nullptr;
    if (type == incr_) {
      // Left in place: the owner only starts an incremental transfer once we delete it.
      refused = "the X clipboard text is too large (its owner sends it incrementally); not fetched";
    } else if (after > 0) {
      refused = "the X clipboard text is over 1 MiB; not fetched";
    } else if (format != 8 || (type != utf8_ && type != XCB_ATOM_STRING)) {
      refused = "the X clipboard owner answered with something that is not text";
    } else {
      text = type == XCB_ATOM_STRING ? Latin1ToUtf8(data, count) : std::string(reinterpret_cast<const char*>(data), count);
    }
    free(reply);
    if (type != incr_) xcb_delete_property(c_, window_, notify.property);
    if (refused) {
      Warn(type == incr_ || after > 0 ? "ERR_CLIPBOARD_TOO_LARGE" : "ERR_CLIPBOARD_NOT_TEXT", refused);
      return;
    }
    pipe.Post(event::Text{std::move(text)});
  }

  // Touched by the X thread only once it runs.
  xcb_connection_t* c_ = nullptr;
  uint8_t fixes_event_base_ = 0;
  xcb_window_t window_ = 0;
  xcb_atom_t clipboard_ = 0, targets_ = 0, utf8_ = 0, text_ = 0, incr_ = 0, transfer_ = 0, stamp_ = 0;
  bool owned_ = false;
  std::string owned_text_;
  bool pending_own_ = false;
  std::string pending_own_text_;
  bool fetching_ = false;
  xcb_atom_t fetch_target_ = 0;
  xcb_timestamp_t fetch_time_ = XCB_CURRENT_TIME;
  std::chrono::steady_clock::time_point fetch_deadline_;

  // Commands from JS (under mutex_).
  std::optional<std::string> pending_text_;
  bool fetch_requested_ = false;
};

Napi::Function XClipboard::DefineClass(Napi::Env env) {
  std::vector<Napi::ClassPropertyDescriptor<XClipboard>> methods = {
      InstanceMethod<&XClipboard::SetText>("setText"),
      InstanceMethod<&XClipboard::Fetch>("fetch"),
  };
  AddCommonMethods(methods);
  return ObjectWrap<XClipboard>::DefineClass(env, "NativeXClipboard", methods);
}

XClipboard::XClipboard(const Napi::CallbackInfo& info) : XWorkerWrap(info, "webrtcbin-x-clipboard") {}
XClipboard::~XClipboard() = default;

Napi::Value XClipboard::SetText(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setText(text) needs a string");
  if (!core_->closing) core_->SetText(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

Napi::Value XClipboard::Fetch(const Napi::CallbackInfo& info) {
  if (!core_->closing) core_->RequestFetch();
  return info.Env().Undefined();
}

}  // namespace wrtc
