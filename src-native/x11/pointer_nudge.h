// Our own XTest pointer input (NativeXInput's move and button, in this process) wakes every damage
// source drawing the pointer, so its position is read at once instead of at the next poll. Pointer
// motion makes no X damage: a source polls the position, fast (at its coalescing rate) for a second
// after any motion, slowly while the pointer is still (a still desktop then costs a few polls a
// second, not 60). What moves the pointer without us (another X client's warp, a local user) is seen
// at the slow poll, then followed at the fast rate.
#pragma once

#include <cstdint>

namespace wrtc {

// Any thread: after a fake motion or button press has been flushed to the X server.
void NudgePointer();
// How many nudges so far (a source compares it with the count it last saw).
uint64_t PointerNudges();
// A damage source's eventfd, written on each nudge while it is added (add at start, remove at stop).
void AddPointerWaker(int fd);
void RemovePointerWaker(int fd);

}  // namespace wrtc
