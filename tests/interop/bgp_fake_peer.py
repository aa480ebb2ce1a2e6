#!/usr/bin/env python3
"""A scripted eBGP peer for the interop tests: connects to our speaker,
announces two prefixes, then (when GO_FILE appears) sends an UPDATE
whose ORIGIN attribute has length 2.  RFC 7606 says: treat as withdraw,
keep the session.  Prints one word per step on stdout:
  ESTABLISHED, VALID_SENT, BAD_SENT, STILL_UP | GOT_NOTIFICATION c s | CLOSED
usage: bgp_fake_peer.py LOCAL REMOTE LOCAL_AS REMOTE_AS GO_FILE
"""
import os
import socket
import struct
import sys
import time

local, remote, las, ras, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def msg(t, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body


def open_msg():
    caps = b""
    caps += bytes([1, 4]) + struct.pack("!HBB", 1, 0, 1)  # MP IPv4 unicast
    caps += bytes([2, 0])  # route refresh
    caps += bytes([65, 4]) + struct.pack("!I", las)  # 4-octet AS
    opt = bytes([2, len(caps)]) + caps
    ip = socket.inet_aton(local)
    return msg(1, struct.pack("!BHH4sB", 4, las if las < 65536 else 23456, 30, ip, len(opt)) + opt)


def update(attrs, nlri):
    return msg(2, struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri)


def attrs(origin_len=1):
    a = b""
    a += bytes([0x40, 1, origin_len]) + b"\x00" * origin_len  # ORIGIN
    a += bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", las)  # AS_PATH
    a += bytes([0x40, 3, 4]) + socket.inet_aton(local)  # NEXT_HOP
    return a


def recv_msgs(s, buf):
    out = []
    while len(buf) >= 19:
        ln = struct.unpack("!H", buf[16:18])[0]
        if len(buf) < ln:
            break
        out.append((buf[18], buf[19:ln]))
        buf = buf[ln:]
    return out, buf


def say(w):
    print(w, flush=True)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((local, 0))
for i in range(100):
    try:
        s.connect((remote, 179))
        break
    except OSError:
        time.sleep(0.2)
else:
    say("CONNECT_FAILED")
    sys.exit(1)
s.sendall(open_msg())
buf = b""
est = False
s.settimeout(10)
while not est:
    d = s.recv(65536)
    if not d:
        say("CLOSED")
        sys.exit(1)
    ms, buf = recv_msgs(s, buf + d)
    for t, b in ms:
        if t == 1:
            s.sendall(msg(4, b""))
        elif t == 4:
            est = True
        elif t == 3:
            say("GOT_NOTIFICATION %d %d" % (b[0], b[1]))
            sys.exit(1)
say("ESTABLISHED")
nlri = bytes([16, 10, 99]) + bytes([16, 10, 98])
s.sendall(update(attrs(), nlri))
say("VALID_SENT")
s.settimeout(0.5)
sent_bad = False
end = None
last_ka = 0
while True:
    now = time.time()
    if now - last_ka > 1:
        s.sendall(msg(4, b""))
        last_ka = now
    if not sent_bad and os.path.exists(go):
        s.sendall(update(attrs(origin_len=2), bytes([16, 10, 99])))
        sent_bad = True
        end = now + 5
        say("BAD_SENT")
    if end is not None and now > end:
        say("STILL_UP")
        end = None
    try:
        d = s.recv(65536)
    except socket.timeout:
        continue
    if not d:
        say("CLOSED")
        sys.exit(1)
    ms, buf = recv_msgs(s, buf + d)
    for t, b in ms:
        if t == 3:
            say("GOT_NOTIFICATION %d %d" % (b[0], b[1]))
            sys.exit(1)
