#!/usr/bin/env python3
"""A TCP listener that accepts every connection and never answers: what a
proxy that swallows packets looks like to a client. Prints its port, then
holds connections until killed."""
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(1024)
print(s.getsockname()[1], flush=True)
held = []
while True:
    conn, _ = s.accept()
    held.append(conn)
    if len(held) > 4096:
        held.pop(0).close()
