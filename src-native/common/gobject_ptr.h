// Small RAII owners for GLib/GStreamer references, so every ref taken is paired with exactly one unref.
#pragma once

#include <gst/gst.h>

#include <string>
#include <utility>

namespace wrtc {

// Owns one reference to a GObject (or GstObject: both are GObjects). Adopts the reference it is given.
template <typename T>
class GObjectPtr {
 public:
  GObjectPtr() = default;
  explicit GObjectPtr(T* adopted) : ptr_(adopted) {}
  GObjectPtr(const GObjectPtr&) = delete;
  GObjectPtr& operator=(const GObjectPtr&) = delete;
  GObjectPtr(GObjectPtr&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  GObjectPtr& operator=(GObjectPtr&& other) noexcept {
    if (this != &other) reset(std::exchange(other.ptr_, nullptr));
    return *this;
  }
  ~GObjectPtr() { reset(); }

  // Takes a new reference (for borrowed pointers, e.g. from a signal argument).
  static GObjectPtr ref(T* borrowed) {
    if (borrowed) g_object_ref(borrowed);
    return GObjectPtr(borrowed);
  }

  void reset(T* adopted = nullptr) {
    T* old = std::exchange(ptr_, adopted);
    if (old) g_object_unref(old);
  }
  T* get() const { return ptr_; }
  T* release() { return std::exchange(ptr_, nullptr); }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  T* ptr_ = nullptr;
};

// Owns a GstMiniObject-derived value (GstCaps, GstSample, GstMessage, GstPromise...). Adopts the
// reference it is given.
template <typename T>
class MiniObjectPtr {
 public:
  MiniObjectPtr() = default;
  explicit MiniObjectPtr(T* adopted) : ptr_(adopted) {}
  MiniObjectPtr(const MiniObjectPtr&) = delete;
  MiniObjectPtr& operator=(const MiniObjectPtr&) = delete;
  MiniObjectPtr(MiniObjectPtr&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  MiniObjectPtr& operator=(MiniObjectPtr&& other) noexcept {
    if (this != &other) reset(std::exchange(other.ptr_, nullptr));
    return *this;
  }
  ~MiniObjectPtr() { reset(); }

  // Takes a new reference (for borrowed pointers, e.g. caps parsed out of an event).
  static MiniObjectPtr ref(T* borrowed) {
    if (borrowed) gst_mini_object_ref(GST_MINI_OBJECT_CAST(borrowed));
    return MiniObjectPtr(borrowed);
  }

  void reset(T* adopted = nullptr) {
    T* old = std::exchange(ptr_, adopted);
    if (old) gst_mini_object_unref(GST_MINI_OBJECT_CAST(old));
  }
  T* get() const { return ptr_; }
  T* release() { return std::exchange(ptr_, nullptr); }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  T* ptr_ = nullptr;
};

// Owns a g_malloc'ed string.
class GCharPtr {
 public:
  explicit GCharPtr(gchar* adopted = nullptr) : ptr_(adopted) {}
  GCharPtr(const GCharPtr&) = delete;
  GCharPtr& operator=(const GCharPtr&) = delete;
  ~GCharPtr() { g_free(ptr_); }
  const gchar* get() const { return ptr_; }
  gchar** out() { return &ptr_; }
  const char* or_empty() const { return ptr_ ? ptr_ : ""; }

 private:
  gchar* ptr_ = nullptr;
};

// Owns a GError.
class GErrorPtr {
 public:
  GErrorPtr() = default;
  GErrorPtr(const GErrorPtr&) = delete;
  GErrorPtr& operator=(const GErrorPtr&) = delete;
  ~GErrorPtr() {
    if (err_) g_error_free(err_);
  }
  GError** out() { return &err_; }
  GError* get() const { return err_; }
  explicit operator bool() const { return err_ != nullptr; }

 private:
  GError* err_ = nullptr;
};

// Caps parsed from a string (null when the string is not valid caps).
inline MiniObjectPtr<GstCaps> CapsFromString(const std::string& text) {
  return MiniObjectPtr<GstCaps>(gst_caps_from_string(text.c_str()));
}

}  // namespace wrtc
