// GLib and GStreamer keep one-time allocations (type registrations, caches) alive to process exit on
// purpose; LeakSanitizer would call each of them a leak. Growth per input is caught by libFuzzer's
// -rss_limit_mb instead.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
