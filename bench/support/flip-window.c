/*
 * The application bench/agent-action.ts acts on: one borderless window over the whole screen that
 * flips between black and white at every button or key press, painted at once (the effect an agent
 * waits to see). It holds the keyboard focus itself (no window manager). Prints "ready WxH" after the
 * first paint reached the server; SIGTERM ends it.
 */
#include <X11/Xlib.h>
#include <stdio.h>

int main(void) {
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "flip-window: cannot open display %s\n", XDisplayName(NULL));
    return 1;
  }
  int screen = DefaultScreen(dpy);
  int width = DisplayWidth(dpy, screen), height = DisplayHeight(dpy, screen);
  unsigned long colours[2] = {BlackPixel(dpy, screen), WhitePixel(dpy, screen)};
  XSetWindowAttributes attrs;
  attrs.override_redirect = True;
  attrs.background_pixel = colours[0];
  attrs.event_mask = ExposureMask | ButtonPressMask | KeyPressMask;
  Window win = XCreateWindow(dpy, RootWindow(dpy, screen), 0, 0, (unsigned)width, (unsigned)height, 0, CopyFromParent, InputOutput,
                             CopyFromParent, CWOverrideRedirect | CWBackPixel | CWEventMask, &attrs);
  XMapRaised(dpy, win);
  GC gc = XCreateGC(dpy, win, 0, NULL);
  int state = 0, announced = 0;
  for (;;) {
    XEvent ev;
    XNextEvent(dpy, &ev);
    if (ev.type == ButtonPress || ev.type == KeyPress) state ^= 1;
    else if (ev.type != Expose) continue;
    XSetForeground(dpy, gc, colours[state]);
    XFillRectangle(dpy, win, gc, 0, 0, (unsigned)width, (unsigned)height);
    if (!announced) {
      XSetInputFocus(dpy, win, RevertToParent, CurrentTime);
      XSync(dpy, False);
      printf("ready %dx%d\n", width, height);
      fflush(stdout);
      announced = 1;
    } else {
      XFlush(dpy);
    }
  }
}
