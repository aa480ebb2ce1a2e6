"""IKEv2 handshakes per second through the Python binding: two contexts
in one process, our initiator against our responder (IKE_SA_INIT +
IKE_AUTH + one CHILD_SA, PSK, then DELETE), the same exchange as
tests/bench/bench_ike_handshake.c, whose C figure
tests/bench/bench_bindings.sh prints beside this one.

    PYTHONPATH=<build>/examples/python/lib python3 bench_python_handshake.py [s]
"""

import sys
import time

import vpnroute as v


class Host(v.Host):
    def __init__(self, q, idx):
        self.q, self.idx = q, idx

    def send_datagram(self, local, remote, data):
        self.q.append((1 - self.idx, remote, local, data))

    def log(self, level, subsys, msg):
        pass


class NullDP(v.Dataplane):
    pass


def rate(ike: str, secs: float):
    q = []
    addrs = ("192.0.2.1", "192.0.2.2")
    # No log lines: the C figure has no log callback either.
    ctx = [v.Context(Host(q, i), dataplane=NullDP(), log_level=v.LOG_ERR)
           for i in range(2)]
    tid = [ctx[i].add_tunnel(addrs[i], addrs[1 - i], b"bench",
                             ike_proposals=[ike],
                             esp_proposals=["aes256gcm16"])
           for i in range(2)]

    def flush():
        while q:
            to, local, remote, data = q.pop(0)
            ctx[to].recv_datagram(local, remote, data)

    n = fails = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        ctx[0].initiate(tid[0])
        flush()
        if (ctx[0].tunnel_info(tid[0]).n_child_sa == 0
                or ctx[1].tunnel_info(tid[1]).n_child_sa == 0):
            fails += 1
        ctx[0].close_tunnel(tid[0])
        flush()
        ctx[0].handle_expiry()
        ctx[1].handle_expiry()
        n += 1
    elapsed = time.monotonic() - t0
    for c in ctx:
        c.close()
    return (n - fails) / elapsed, fails


def main() -> None:
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    for name, ike in (("x25519", "aes256gcm16-prfsha256-x25519"),
                      ("ecp256", "aes256gcm16-prfsha256-ecp256"),
                      ("modp2048", "aes256-sha256-modp2048")):
        best, fails = 0.0, 0
        for _ in range(3):  # best of three: the VM is shared
            x, f = rate(ike, secs / 3)
            best = max(best, x)
            fails += f
        print("python  %-10s %14.0f %8d" % (name, best, fails))


if __name__ == "__main__":
    main()
