#!/usr/bin/env python3
# Receive sd_notify datagrams on a unix socket (a path, or @name for the
# abstract namespace) and print each as one line, until SIGTERM or a timeout.
import signal
import socket
import sys

path, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
print("bound", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s.settimeout(seconds)
try:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        print(msg.replace("\n", " "), flush=True)
except socket.timeout:
    pass
