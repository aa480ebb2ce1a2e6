#!/usr/bin/env python3
"""Send one hand-built IKE_SA_INIT request and check the answer.

Used by test_ike_hostile_init.sh (stdlib only).  The request offers
AES-CBC-256 / HMAC-SHA2-256 / PRF-SHA2-256 / Curve25519 with a random KE
value and nonce; --mode chooses what is wrong with it:

  plain      nothing (a responder answers with SA, KE, Nr: state is made)
  critical   an unknown payload (type 200) with the critical bit set:
             expect UNSUPPORTED_CRITICAL_PAYLOAD (1) with data 0xc8
  version3   header version 3.0: expect INVALID_MAJOR_VERSION (5) with
             data 0x20 (the highest version the responder speaks)
  response3  version 3.0 with the Response flag: expect no answer

Prints one line "ANSWER ..." (or "NO_ANSWER") and exits 0 when the
answer is the expected one, 1 otherwise.
"""
import argparse
import os
import socket
import struct
import sys

PL_SA, PL_KE, PL_NONCE, PL_NOTIFY = 33, 34, 40, 41
PL_UNKNOWN = 200
IKE_SA_INIT = 34
F_INITIATOR, F_RESPONSE = 0x08, 0x20


def transform(last, ttype, tid, keylen=None):
    attr = struct.pack("!HH", 0x800E, keylen) if keylen else b""
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attr), ttype,
                       0, tid) + attr


def payload(nxt, body, critical=False):
    return struct.pack("!BBH", nxt, 0x80 if critical else 0,
                       4 + len(body)) + body


def request(mode):
    trans = (transform(False, 1, 12, 256) + transform(False, 2, 5) +
             transform(False, 3, 12) + transform(True, 4, 31))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(trans), 1, 1, 0, 4) + trans
    ke = struct.pack("!HH", 31, 0) + os.urandom(32)
    chain = [(PL_SA, prop), (PL_KE, ke), (PL_NONCE, os.urandom(32))]
    if mode == "critical":
        chain.append((PL_UNKNOWN, b"\xde\xad\xbe\xef"))
    body = b""
    for i, (ptype, pbody) in enumerate(chain):
        nxt = chain[i + 1][0] if i + 1 < len(chain) else 0
        body += payload(nxt, pbody, critical=ptype == PL_UNKNOWN)
    version = 0x30 if mode in ("version3", "response3") else 0x20
    flags = F_INITIATOR | (F_RESPONSE if mode == "response3" else 0)
    spi_i = os.urandom(8)
    hdr = spi_i + bytes(8) + struct.pack("!BBBBII", PL_SA, version,
                                         IKE_SA_INIT, flags, 0,
                                         28 + len(body))
    return spi_i, hdr + body


def parse(msg):
    """Header fields and the list of (payload type, body)."""
    if len(msg) < 28:
        raise ValueError("short answer")
    nxt, version, exch, flags, msg_id, length = struct.unpack(
        "!BBBBII", msg[16:28])
    pls, off = [], 28
    while nxt != 0:
        if off + 4 > len(msg):
            raise ValueError("truncated payload")
        nn, _, plen = struct.unpack("!BBH", msg[off:off + 4])
        if plen < 4 or off + plen > len(msg):
            raise ValueError("bad payload length")
        pls.append((nxt, msg[off + 4:off + plen]))
        nxt, off = nn, off + plen
    return {"spi_i": msg[:8], "version": version, "exchange": exch,
            "flags": flags, "msg_id": msg_id, "length": length,
            "payloads": pls}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--to", required=True, help="responder address")
    ap.add_argument("--port", type=int, default=500)
    ap.add_argument("--mode", required=True,
                    choices=["plain", "critical", "version3", "response3"])
    ap.add_argument("--timeout", type=float, default=3.0)
    a = ap.parse_args()

    spi_i, req = request(a.mode)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    s.sendto(req, (a.to, a.port))
    try:
        ans, _ = s.recvfrom(65535)
    except socket.timeout:
        print("NO_ANSWER")
        return 0 if a.mode == "response3" else 1
    m = parse(ans)
    notifies = [(struct.unpack("!H", b[2:4])[0], b[4 + b[1]:])
                for t, b in m["payloads"] if t == PL_NOTIFY and len(b) >= 4]
    print("ANSWER version=0x%02x exchange=%d flags=0x%02x payloads=%s "
          "notifies=%s" % (m["version"], m["exchange"], m["flags"],
                           ",".join(str(t) for t, _ in m["payloads"]),
                           ",".join("%d:%s" % (t, d.hex())
                                    for t, d in notifies)))
    if m["spi_i"] != spi_i or not m["flags"] & F_RESPONSE:
        print("not an answer to our request", file=sys.stderr)
        return 1
    if m["version"] != 0x20 or m["exchange"] != IKE_SA_INIT:
        print("answer header", file=sys.stderr)
        return 1
    want = {"critical": (1, bytes([PL_UNKNOWN])),
            "version3": (5, b"\x20")}.get(a.mode)
    if a.mode == "plain":
        types = [t for t, _ in m["payloads"]]
        return 0 if types[:3] == [PL_SA, PL_KE, PL_NONCE] else 1
    if a.mode == "response3":
        return 1  # a response must get silence
    return 0 if notifies == [want] and len(m["payloads"]) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
