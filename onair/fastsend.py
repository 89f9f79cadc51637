"""Write one pre-framed WebSocket frame to many Daphne sockets.

Measured on a 2-core development machine (bench/README.md): the cost of fan-out is per
frame, about 50 us of Daphne CPU each, most of it autobahn re-framing and re-encoding the same
bytes for every socket. A chat batch or a media piece is the same bytes for every
viewer, so the hubs (chat/hub.py, broadcast/hub.py) frame it once (`text_frame`,
`binary_frame`) and write those bytes straight to each socket's transport. Servers
other than Daphne (or a socket not open) fall back to the normal ASGI send;
`DaphneProbe.for_send` returns None when it can't find the transport.

The probe also reads how many bytes wait in the transport's buffer: that is how the hub
sees a slow client without any queue of its own growing.
"""

import contextlib
import socket
import struct

WRITTEN, SLOW, FALLBACK = "written", "slow", "fallback"
_UNKNOWN = object()


def text_frame(text):
    """An unmasked, unfragmented server-to-client text frame (RFC 6455 5.2)."""
    return _frame(0x81, text.encode("utf-8"))


def binary_frame(data):
    """The same, for binary data."""
    return _frame(0x82, data)


def _frame(first_byte, payload):
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first_byte, length)
    elif length < 65536:
        header = struct.pack("!BBH", first_byte, 126, length)
    else:
        header = struct.pack("!BBQ", first_byte, 127, length)
    return header + payload


class DaphneProbe:
    def __init__(self, protocol):
        self.protocol = protocol
        self._sock = _UNKNOWN

    @classmethod
    def for_send(cls, send):
        """Find Daphne's protocol behind an ASGI send callable (through Channels'
        session wrapper), or None."""
        for _ in range(4):
            target = getattr(send, "__self__", None)
            if target is not None and hasattr(target, "real_send"):
                send = target.real_send
                continue
            args = getattr(send, "args", None)
            if args and hasattr(args[0], "transport") and hasattr(args[0], "STATE_OPEN"):
                return cls(args[0])
            return None
        return None

    def write(self, raw, limit=None):
        """Write a pre-built frame. Returns WRITTEN, SLOW (more than `limit` bytes already
        wait in the buffer: nothing written) or FALLBACK (not open, or compression
        negotiated: the caller uses the ASGI send)."""
        protocol = self.protocol
        transport = protocol.transport
        if (
            protocol.state != protocol.STATE_OPEN
            or transport is None
            or getattr(protocol, "_perMessageCompress", None)
        ):
            return FALLBACK
        buffered = self.buffered_bytes()
        if limit is not None and buffered > limit:
            return SLOW
        sock = self._plain_socket()
        if sock is not None and buffered == 0:
            # Nothing queued: hand the bytes to the kernel now, which saves Twisted arming
            # and disarming the socket for writing on every frame (a fifth of the cost).
            try:
                sent = sock.send(raw)
            except BlockingIOError:
                sent = 0
            except OSError:
                return FALLBACK
            if sent == len(raw):
                return WRITTEN
            raw = raw[sent:]
        transport.write(raw)
        return WRITTEN

    def limit_send_buffer(self, size):
        """Cap the kernel's send buffer of this (plain TCP) socket. Left alone, Linux grows
        it up to tcp_wmem's maximum (4 MB here), where a slow client's backlog sits unseen
        by buffered_bytes()."""
        sock = self._plain_socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    def _plain_socket(self):
        """The socket under a plain TCP transport (looked up once), else None."""
        if self._sock is _UNKNOWN:
            transport = getattr(self.protocol, "transport", None)
            if transport is None:
                return None  # not connected yet: look again next time
            # A connection already closed has dropped its socket: no direct path then.
            self._sock = getattr(transport, "socket", None) if _plain_tcp(transport) else None
        return self._sock

    def buffered_bytes(self):
        transport = getattr(self.protocol, "transport", None)
        if transport is None:
            return 0
        data = getattr(transport, "dataBuffer", b"")
        offset = getattr(transport, "offset", 0)
        return len(data) - offset + getattr(transport, "_tempDataLen", 0)


def _plain_tcp(transport):
    """Only a plain TCP connection may be written to through its socket: any other
    transport (TLS above all) must encode the bytes itself."""
    try:
        from twisted.internet.tcp import Connection
    except ImportError:
        return False
    return isinstance(transport, Connection) and not getattr(transport, "TLS", False)
