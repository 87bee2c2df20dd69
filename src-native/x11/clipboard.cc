#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <type_traits>
#include <variant>

#include "x11/clipboard.h"
#include "common/close_promise.h"
#include "common/event_pipe.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xfixes.h>

#include "common/native_error.h"
#include "x11/error_trap.h"

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
};
// A text could not be fetched or set; the clipboard goes on.
struct Warning {
  static constexpr const char* kType = "warning";
  std::string code;
  std::string message;
};
// The display went away; the X thread has ended.
struct Error {
  static constexpr const char* kType = "error";
  std::string code;
  std::string message;
};
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

void DisplayGone(Display*, void* flag) { static_cast<std::atomic<bool>*>(flag)->store(true); }

}  // namespace

using ClipboardEvent = std::variant<event::Text, event::Warning, event::Error>;

class ClipboardCore {
 public:
  ~ClipboardCore() {
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  // JS thread, before the thread starts: everything that can fail, so the constructor can throw.
  bool Open(const std::string& name, std::string* error) {
    display_ = XOpenDisplay(name.empty() ? nullptr : name.c_str());
    if (!display_) {
      *error = "cannot open X display " + name + " for the clipboard (is DISPLAY right and the server running?)";
      return false;
    }
    XSetIOErrorExitHandler(display_, DisplayGone, &lost_);
    trap_.Install(display_);
    int error_base;
    if (!XFixesQueryExtension(display_, &fixes_event_base_, &error_base)) {
      *error = "the X server " + name + " has no XFIXES extension: clipboard changes cannot be watched";
      Shutdown();
      return false;
    }
    int major = 0, minor = 0;
    XFixesQueryVersion(display_, &major, &minor);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      *error = "eventfd failed for the clipboard thread";
      Shutdown();
      return false;
    }
    const char* names[] = {"CLIPBOARD", "TARGETS", "UTF8_STRING", "TEXT", "INCR", "WEBRTCBIN_CLIPBOARD", "WEBRTCBIN_TIMESTAMP"};
    Atom atoms[7];
    XInternAtoms(display_, const_cast<char**>(names), 7, False, atoms);
    clipboard_ = atoms[0];
    targets_ = atoms[1];
    utf8_ = atoms[2];
    text_ = atoms[3];
    incr_ = atoms[4];
    transfer_ = atoms[5];
    stamp_ = atoms[6];
    Window root = DefaultRootWindow(display_);
    // Never mapped: a window only to own the selection and receive converted text.
    window_ = XCreateSimpleWindow(display_, root, -10, -10, 1, 1, 0, 0, 0);
    XSelectInput(display_, window_, PropertyChangeMask);
    XFixesSelectSelectionInput(display_, root, clipboard_, XFixesSetSelectionOwnerNotifyMask);
    XSync(display_, False);
    if (lost_ || trap_.Take().code != 0) {
      *error = "the X server " + name + " refused the clipboard window";
      Shutdown();
      return false;
    }
    return true;
  }

  // JS thread, once the pipe is open.
  void Start() { thread_ = std::thread([this] { Run(); }); }

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
  void Stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    Wake();
  }

  // JS thread, from the TSFN finalizer: the thread has released the pipe (or the environment is
  // going away, in which case it is told to stop first). It never blocks on JS, so this is short.
  void Join() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }

  // Events for JS; the X thread releases it when it ends.
  EventPipe<ClipboardEvent> pipe;

  // JS thread only.
  bool finalized = false;
  bool closing = false;

 private:
  void Wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
  }

  void Warn(const char* code, std::string message) { pipe.Post(event::Warning{code, std::move(message)}); }

  void Run() {
    pollfd fds[2] = {{ConnectionNumber(display_), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    for (;;) {
      std::optional<std::string> text;
      bool fetch;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) break;
        text.swap(pending_text_);
        fetch = fetch_requested_;
        fetch_requested_ = false;
      }
      if (text) AskForTimestamp(std::move(*text));
      if (fetch) {
        Window owner = XGetSelectionOwner(display_, clipboard_);
        if (owner != None && owner != window_) StartFetch(CurrentTime);
      }
      // Xlib may already hold events read along with a reply: drain its queue before sleeping.
      while (!lost_ && XPending(display_) > 0) {
        XEvent event;
        XNextEvent(display_, &event);
        Handle(event);
        trap_.Take();  // e.g. BadWindow from a requestor that vanished: nothing to do about it
      }
      if (lost_) {
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
      XFlush(display_);
      if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
        pipe.Post(event::Error{"ERR_X_DISPLAY_LOST", "poll failed on the X clipboard connection"});
        break;
      }
      if (fds[1].revents & POLLIN) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
      }
    }
    Shutdown();
    pipe.Release();
  }

  // X thread (or the JS thread before it starts). After an IO error only the Display's memory is
  // left: XCloseDisplay still frees it without talking to the dead server.
  void Shutdown() {
    if (!display_) return;
    if (!lost_ && window_) XDestroyWindow(display_, window_);
    trap_.Remove();
    XCloseDisplay(display_);
    display_ = nullptr;
  }

  void Handle(XEvent& event) {
    if (event.type == fixes_event_base_ + XFixesSelectionNotify) {
      auto* notify = reinterpret_cast<XFixesSelectionNotifyEvent*>(&event);
      // Our own ownership is announced too; only another client's text is news.
      if (notify->selection == clipboard_ && notify->owner != None && notify->owner != window_) {
        StartFetch(notify->selection_timestamp);
      }
      return;
    }
    switch (event.type) {
      case SelectionRequest:
        Answer(event.xselectionrequest);
        break;
      case SelectionClear:
        if (event.xselectionclear.selection == clipboard_) {
          owned_ = false;
          owned_text_.clear();
          owned_text_.shrink_to_fit();
        }
        break;
      case SelectionNotify:
        if (event.xselection.selection == clipboard_ && event.xselection.requestor == window_) Receive(event.xselection);
        break;
      case PropertyNotify:
        if (event.xproperty.window == window_ && event.xproperty.atom == stamp_ && pending_own_) {
          TakeOwnership(event.xproperty.time);
        }
        break;
      default:
        break;
    }
  }

  // ICCCM: take a selection with a real server time, not CurrentTime. A zero-length append to our
  // own window yields one (PropertyNotify), without blocking this thread on a round trip.
  void AskForTimestamp(std::string text) {
    pending_own_text_ = std::move(text);
    pending_own_ = true;
    XChangeProperty(display_, window_, stamp_, XA_STRING, 8, PropModeAppend, nullptr, 0);
  }

  void TakeOwnership(Time time) {
    pending_own_ = false;
    XSetSelectionOwner(display_, clipboard_, window_, time);
    if (XGetSelectionOwner(display_, clipboard_) != window_) {
      Warn("ERR_CLIPBOARD_OWNER", "another X client took the clipboard first; the text was not set");
      pending_own_text_.clear();
      return;
    }
    owned_ = true;
    owned_text_ = std::move(pending_own_text_);
    pending_own_text_.clear();
  }

  void Answer(const XSelectionRequestEvent& request) {
    XSelectionEvent reply{};
    reply.type = SelectionNotify;
    reply.display = display_;
    reply.requestor = request.requestor;
    reply.selection = request.selection;
    reply.target = request.target;
    reply.time = request.time;
    reply.property = None;  // None = refused
    // Obsolete clients pass no property: the target's name is used (ICCCM).
    Atom property = request.property == None ? request.target : request.property;
    if (owned_ && request.selection == clipboard_ && request.owner == window_) {
      if (request.target == targets_) {
        Atom list[] = {targets_, utf8_, XA_STRING, text_};
        XChangeProperty(display_, request.requestor, property, XA_ATOM, 32, PropModeReplace,
                        reinterpret_cast<unsigned char*>(list), 4);
        reply.property = property;
      } else if (request.target == utf8_ || request.target == text_ || request.target == XA_STRING) {
        std::string latin1;
        const std::string& data = request.target == XA_STRING ? (latin1 = Utf8ToLatin1(owned_text_)) : owned_text_;
        // One request must carry it all (no INCR from our side): refuse what does not fit.
        long max_units = XExtendedMaxRequestSize(display_);
        if (max_units == 0) max_units = XMaxRequestSize(display_);
        if (static_cast<long>(data.size()) < max_units * 4 - 64) {
          XChangeProperty(display_, request.requestor, property, request.target == XA_STRING ? XA_STRING : utf8_, 8,
                          PropModeReplace, reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
          reply.property = property;
        }
      }
    }
    XSendEvent(display_, request.requestor, False, NoEventMask, reinterpret_cast<XEvent*>(&reply));
  }

  void StartFetch(Time time) {
    fetch_target_ = utf8_;
    fetch_time_ = time;
    fetching_ = true;
    fetch_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kFetchTimeoutMs);
    XConvertSelection(display_, clipboard_, utf8_, transfer_, window_, time);
  }

  void Receive(const XSelectionEvent& notify) {
    if (!fetching_) return;
    if (notify.property == None) {
      if (fetch_target_ == utf8_) {  // older clients only speak Latin-1 STRING
        fetch_target_ = XA_STRING;
        XConvertSelection(display_, clipboard_, XA_STRING, transfer_, window_, fetch_time_);
        return;
      }
      fetching_ = false;
      Warn("ERR_CLIPBOARD_NOT_TEXT", "the X clipboard holds no text (its owner offers neither UTF8_STRING nor STRING)");
      return;
    }
    fetching_ = false;
    Atom type = None;
    int format = 0;
    unsigned long count = 0, after = 0;
    unsigned char* data = nullptr;
    int status = XGetWindowProperty(display_, window_, notify.property, 0, kMaxFetchBytes / 4, False, AnyPropertyType,
                                    &type, &format, &count, &after, &data);
    if (status != Success || lost_) {
      if (data) XFree(data);
      return;
    }
    std::string text;
    const char* refused = nullptr;
    if (type == incr_) {
      // Left in place: the owner only starts an incremental transfer once we delete it.
      refused = "the X clipboard text is too large (its owner sends it incrementally); not fetched";
    } else if (after > 0) {
      refused = "the X clipboard text is over 1 MiB; not fetched";
    } else if (format != 8 || (type != utf8_ && type != XA_STRING)) {
      refused = "the X clipboard owner answered with something that is not text";
    } else if (data) {
      text = type == XA_STRING ? Latin1ToUtf8(data, count) : std::string(reinterpret_cast<char*>(data), count);
    }
    if (data) XFree(data);
    if (type != incr_) XDeleteProperty(display_, window_, notify.property);
    if (refused) {
      Warn(type == incr_ || after > 0 ? "ERR_CLIPBOARD_TOO_LARGE" : "ERR_CLIPBOARD_NOT_TEXT", refused);
      return;
    }
    pipe.Post(event::Text{std::move(text)});
  }

  // Touched by the X thread only once it runs.
  Display* display_ = nullptr;
  XErrorTrap trap_;
  std::atomic<bool> lost_{false};
  int fixes_event_base_ = 0;
  Window window_ = 0;
  Atom clipboard_ = 0, targets_ = 0, utf8_ = 0, text_ = 0, incr_ = 0, transfer_ = 0, stamp_ = 0;
  bool owned_ = false;
  std::string owned_text_;
  bool pending_own_ = false;
  std::string pending_own_text_;
  bool fetching_ = false;
  Atom fetch_target_ = 0;
  Time fetch_time_ = CurrentTime;
  std::chrono::steady_clock::time_point fetch_deadline_;
  std::thread thread_;
  int wake_fd_ = -1;

  // Commands from JS.
  std::mutex mutex_;
  std::optional<std::string> pending_text_;
  bool fetch_requested_ = false;
  bool stop_ = false;
};

namespace {

void Fill(Napi::Object& o, const event::Text& e) { o.Set("text", e.text); }
void Fill(Napi::Object& o, const event::Warning& e) {
  o.Set("code", e.code);
  o.Set("message", e.message);
}
void Fill(Napi::Object& o, const event::Error& e) {
  o.Set("code", e.code);
  o.Set("message", e.message);
}

}  // namespace

// The JS-thread side of one clipboard (the convention of peer/peer_wrap.h): events to the wrapper's
// `onevent`, the close promise resolved once the X thread has ended.
class ClipboardJs final : public EventReceiver<ClipboardEvent> {
 public:
  explicit ClipboardJs(std::shared_ptr<ClipboardCore> core) : core_(std::move(core)) {}

  void OnEvent(Napi::Env env, ClipboardEvent& event) override {
    if (!wrapper) return;
    Napi::HandleScope scope(env);
    CallOnevent(env, wrapper->Value(), event, [](Napi::Object& js, const auto& e) { Fill(js, e); });
  }

  void OnPipeFinalized(Napi::Env env, bool released) override {
    core_->Join();
    core_->finalized = true;
    closed.Finish(env, released, [this] {
      // Its events may come at any time from another X client: like a listening socket it stayed
      // reachable while its thread ran (see the constructor).
      if (wrapper) wrapper->Napi::Reference<Napi::Object>::Unref();
    });
  }

  XClipboard* wrapper = nullptr;  // while the ObjectWrap lives
  ClosePromise closed;

 private:
  std::shared_ptr<ClipboardCore> core_;
};

Napi::Function XClipboard::DefineClass(Napi::Env env) {
  return ObjectWrap<XClipboard>::DefineClass(env, "NativeXClipboard",
                                             {
                                                 InstanceMethod<&XClipboard::SetText>("setText"),
                                                 InstanceMethod<&XClipboard::Fetch>("fetch"),
                                                 InstanceMethod<&XClipboard::Close>("close"),
                                                 InstanceMethod<&XClipboard::Ref>("ref"),
                                                 InstanceMethod<&XClipboard::Unref>("unref"),
                                             });
}

XClipboard::XClipboard(const Napi::CallbackInfo& info) : Napi::ObjectWrap<XClipboard>(info) {
  Napi::Env env = info.Env();
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  auto core = std::make_shared<ClipboardCore>();
  std::string message;
  if (!core->Open(name, &message)) throw NativeError{"ERR_X_DISPLAY", message, ""}.ToJs(env);
  js_ = std::make_shared<ClipboardJs>(core);
  js_->wrapper = this;
  core->pipe.Open(env, "webrtcbin-x-clipboard", js_);
  core->Start();
  core_ = core;
  // Reachable while the X thread runs, as it was when JS handed the callback to the pipe: the
  // pipe's finalizer lets go.
  Napi::Reference<Napi::Object>::Ref();
  RegisterLive(env);
}

// The environment exits with the clipboard open: the X thread stops (closing its Display and
// releasing the pipe) and is joined here. Nothing is resolved: no JS runs any more.
void XClipboard::CloseForExit() {
  core_->closing = true;
  js_->wrapper = nullptr;
  js_->closed.Abandon();
  core_->Join();
}

// Collected without close(): the thread is told to stop; the TSFN finalizer joins it.
XClipboard::~XClipboard() {
  if (js_) js_->wrapper = nullptr;
  if (core_) core_->Stop();
}

Napi::Value XClipboard::SetText(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "setText(text) needs a string");
  if (!core_->closing) core_->SetText(info[0].As<Napi::String>().Utf8Value());
  return info.Env().Undefined();
}

Napi::Value XClipboard::Fetch(const Napi::CallbackInfo& info) {
  if (!core_->closing) core_->RequestFetch();
  return info.Env().Undefined();
}

// Idempotent; resolves once the thread has ended, the Display is closed and the TSFN is gone.
Napi::Value XClipboard::Close(const Napi::CallbackInfo& info) {
  return js_->closed.Get(info.Env(), core_->finalized, [this] {
    core_->closing = true;
    core_->Stop();
  });
}

Napi::Value XClipboard::Ref(const Napi::CallbackInfo& info) {
  core_->pipe.SetKeepsLoopAlive(info.Env(), true);
  return info.Env().Undefined();
}

Napi::Value XClipboard::Unref(const Napi::CallbackInfo& info) {
  core_->pipe.SetKeepsLoopAlive(info.Env(), false);
  return info.Env().Undefined();
}

}  // namespace wrtc
