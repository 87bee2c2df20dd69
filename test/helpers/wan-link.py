#!/usr/bin/python3
"""A WAN link between this network namespace and a new one, for tests on kernels without netem.

    wan-link.py NS [--delay MS] [--jitter MS] [--loss PCT] [--rate MBIT] [--queue MS]

Creates namespace NS and two TUN devices joined by this process (10.77.0.1 here, 10.77.0.2 in NS) and
forwards IP packets between them with one-way delay, jitter, random loss and a rate limit with a
tail-drop queue, each direction alike (the same model as the shared `wan-link` tool). Prints "ready"
once the link is up. While it runs, a line on stdin such as `set rate=0 loss=1 delay=50` changes the
link in place (rate 0 = unlimited), answered by "ok": a test lifts a bandwidth cap without tearing the
namespace (and the browser inside it) down. SIGTERM, SIGINT or the end of stdin removes everything.
"""
import argparse, fcntl, heapq, os, random, select, signal, struct, subprocess, sys, time

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def attach(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def down(ns):
    sh('ip', 'netns', 'del', ns, check=False)
    sh('ip', 'link', 'del', f'wan-{ns}'[:15], check=False)


class Direction:
    """One way: rate limit with a tail-drop queue, then delay plus jitter (never reordering), then loss."""

    def __init__(self, out_fd, a):
        self.out_fd, self.a, self.free_at, self.last_due = out_fd, a, 0.0, 0.0

    def admit(self, pkt, now, heap):
        a = self.a
        if random.random() < a.loss / 100:
            return
        start = max(now, self.free_at)
        if a.rate > 0:
            if start - now > a.queue / 1000:
                return
            self.free_at = start + len(pkt) * 8 / (a.rate * 1e6)
        else:
            self.free_at = start
        due = max(self.free_at + a.delay / 1000 + random.uniform(0, a.jitter / 1000), self.last_due)
        self.last_due = due
        heapq.heappush(heap, (due, id(pkt), self.out_fd, pkt))


def command(line, a):
    words = line.split()
    if not words or words[0] != 'set':
        return f'error unknown command {line.strip()!r}'
    for word in words[1:]:
        key, _, value = word.partition('=')
        if key not in ('delay', 'jitter', 'loss', 'rate', 'queue'):
            return f'error unknown setting {key!r}'
        setattr(a, key, float(value))
    return f'ok delay={a.delay} jitter={a.jitter} loss={a.loss} rate={a.rate} queue={a.queue}'


def up(a):
    ns, host_if, ns_if = a.ns, f'wan-{a.ns}'[:15], f'wan-{a.ns}-in'[:15]
    down(ns)
    sh('ip', 'netns', 'add', ns)
    for name in (host_if, ns_if):
        sh('ip', 'tuntap', 'add', 'dev', name, 'mode', 'tun')
    fa, fb = attach(host_if), attach(ns_if)
    sh('ip', 'link', 'set', ns_if, 'netns', ns)
    sh('ip', 'addr', 'add', '10.77.0.1/30', 'dev', host_if)
    sh('ip', 'link', 'set', host_if, 'up')
    nx = ('ip', 'netns', 'exec', ns)
    sh(*nx, 'ip', 'addr', 'add', '10.77.0.2/30', 'dev', ns_if)
    sh(*nx, 'ip', 'link', 'set', ns_if, 'up')
    sh(*nx, 'ip', 'link', 'set', 'lo', 'up')
    stop = []
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.append(1))
    ways = {fa: Direction(fb, a), fb: Direction(fa, a)}
    heap = []
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b''
    print('ready', flush=True)
    try:
        while not stop:
            now = time.monotonic()
            while heap and heap[0][0] <= now:
                _, _, fd, pkt = heapq.heappop(heap)
                try:
                    os.write(fd, pkt)
                except OSError:
                    pass
            timeout = max(0.0, heap[0][0] - now) if heap else 0.05
            try:
                ready, _, _ = select.select([fa, fb, stdin], [], [], min(timeout, 0.05))
            except InterruptedError:
                continue
            for fd in ready:
                if fd == stdin:
                    try:
                        chunk = os.read(stdin, 4096)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        stop.append(1)  # the test that started us is gone
                        break
                    pending += chunk
                    while b'\n' in pending:
                        line, pending = pending.split(b'\n', 1)
                        print(command(line.decode(), a), flush=True)
                    continue
                for _ in range(64):
                    try:
                        pkt = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    ways[fd].admit(pkt, time.monotonic(), heap)
    finally:
        down(ns)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('ns')
    p.add_argument('--delay', type=float, default=25, help='one-way delay, ms (RTT is twice this)')
    p.add_argument('--jitter', type=float, default=0, help='extra random one-way delay up to this, ms')
    p.add_argument('--loss', type=float, default=0, help='random loss each way, percent')
    p.add_argument('--rate', type=float, default=0, help='link rate each way, Mbit/s (0 = unlimited)')
    p.add_argument('--queue', type=float, default=50, help='queue before tail drop at the link rate, ms')
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit('wan-link needs root (network namespaces and TUN devices)')
    up(a)


if __name__ == '__main__':
    main()
