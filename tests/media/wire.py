"""WebSocket on the wire, for clients that hold a raw socket (a viewer that stops
reading in the tests, the bench's light load client): the upgrade request, server
frames cut from a receive buffer, masked client frames (RFC 6455 5.2-5.3)."""

import base64
import os
import struct


def upgrade_request(host, port, path, *, origin, headers=None):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def pop_frame(buffer):
    """The first whole server frame in `buffer` (a bytearray) as (opcode, payload),
    removed from it; None while the frame is incomplete."""
    if len(buffer) < 2:
        return None
    length, start = buffer[1] & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, start = int.from_bytes(buffer[2:4], "big"), 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, start = int.from_bytes(buffer[2:10], "big"), 10
    end = start + length
    if len(buffer) < end:
        return None
    frame = buffer[0] & 0x0F, bytes(buffer[start:end])
    del buffer[:end]
    return frame


def client_frame(data, opcode=0x1):
    """A masked client frame (text by default); meant for short frames."""
    if isinstance(data, str):
        data = data.encode()
    mask = os.urandom(4)
    length = len(data)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0xFE, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0xFF, length)
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
