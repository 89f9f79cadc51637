"""A streaming WebM segmenter for the live relay.

The publisher sends MediaRecorder's WebM output in arbitrary chunks. We split it into
- the init segment: EBML header, the Segment header, and the level-1 elements before the
  first Cluster (Info, Tracks, ...), which every viewer needs before any media;
- media pieces: runs of whole Cluster children. A piece that starts a cluster carries the
  cluster header and says whether the cluster is a keyframe cluster, decided by the
  keyframe flag of its first video block (Chrome cuts clusters at every timeslice too,
  so most clusters do not start on a keyframe).

Pieces end on element boundaries, so a viewer can append them to MSE as they come,
without waiting for the cluster (of unknown size) to end: each input chunk gives at most
one piece per cluster it touches. Nothing is buffered beyond a
few bounded sizes; input that is not WebM, or too large, raises `WebMError`.
A new EBML header at the top level starts a new stream (the recorder was restarted).
"""

from dataclasses import dataclass

EBML = 0x1A45DFA3
SEGMENT = 0x18538067
CLUSTER = 0x1F43B675
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_NUMBER = 0xD7
TRACK_TYPE = 0x83
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
REFERENCE_BLOCK = 0xFB
CUES = 0x1C53BB6B
TAGS = 0x1254C367
# Level-1 elements: one of these inside a cluster of unknown size ends the cluster.
LEVEL1 = {
    0x114D9B74,  # SeekHead
    0x1549A966,  # Info
    TRACKS,
    CLUSTER,
    CUES,
    0x1043A770,  # Chapters
    0x1941A469,  # Attachments
    TAGS,
}
TRACK_TYPE_VIDEO = 1

MAX_HEADER_ELEMENT = 64 * 1024  # EBML header, Info, Tracks and friends
MAX_INIT = 256 * 1024
MAX_BLOCK = 4 * 1024 * 1024  # one video frame; a 1080p keyframe is far smaller
MAX_PENDING = 4 * 1024 * 1024  # a cluster's start, held until its first video block
MAX_BUFFER = 8 * 1024 * 1024


class WebMError(Exception):
    """Input that is not a WebM stream we can relay. `code` is stable, for clients."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class InitSegment:
    data: bytes


@dataclass(frozen=True)
class MediaPiece:
    data: bytes
    cluster_start: bool  # begins with a Cluster header
    keyframe: bool  # cluster_start and the cluster's first video block is a keyframe


def read_vint(buf, pos, *, keep_marker):
    """(value, length) of the EBML variable-size integer at pos, or None if incomplete.
    An all-ones size ("unknown") is returned as -1."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first == 0:
        raise WebMError("bad_element", "invalid EBML variable-size integer")
    length = 1
    mask = 0x80
    while not first & mask:
        mask >>= 1
        length += 1
    if pos + length > len(buf):
        return None
    value = first if keep_marker else first & (mask - 1)
    for byte in buf[pos + 1 : pos + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length
    return value, length


def read_element_header(buf, pos):
    """(id, size, header_length) at pos, or None if the header is incomplete."""
    element_id = read_vint(buf, pos, keep_marker=True)
    if element_id is None:
        return None
    if element_id[1] > 4:
        raise WebMError("bad_element", "EBML element ID longer than 4 bytes")
    size = read_vint(buf, pos + element_id[1], keep_marker=False)
    if size is None:
        return None
    return element_id[0], size[0], element_id[1] + size[1]


def iter_children(data):
    """(id, payload) of each child in a known-size element's payload."""
    pos = 0
    while pos < len(data):
        header = read_element_header(data, pos)
        if header is None or header[1] < 0:
            raise WebMError("bad_element", "truncated or unsized child element")
        element_id, size, header_len = header
        start = pos + header_len
        if start + size > len(data):
            raise WebMError("bad_element", "child element overruns its parent")
        yield element_id, data[start : start + size]
        pos = start + size


def read_uint(data):
    value = 0
    for byte in data:
        value = (value << 8) | byte
    return value


def video_track_numbers(tracks_payload):
    numbers = set()
    for element_id, entry in iter_children(tracks_payload):
        if element_id != TRACK_ENTRY:
            continue
        fields = dict(iter_children(entry))
        if read_uint(fields.get(TRACK_TYPE, b"")) == TRACK_TYPE_VIDEO:
            numbers.add(read_uint(fields.get(TRACK_NUMBER, b"")))
    return numbers


def block_track_and_flags(payload):
    """Track number and flags byte of a (Simple)Block payload."""
    track = read_vint(payload, 0, keep_marker=False)
    if track is None or len(payload) < track[1] + 3:
        raise WebMError("bad_element", "truncated block header")
    return track[0], payload[track[1] + 2]


class Segmenter:
    """Feed it the publisher's bytes; it returns InitSegment and MediaPiece events."""

    # Where the parser stands.
    _EXPECT_EBML = "expect_ebml"
    _EXPECT_SEGMENT = "expect_segment"
    _SEGMENT = "segment"  # between level-1 elements
    _CLUSTER = "cluster"

    def __init__(self):
        self.reset()

    def reset(self):
        self._buf = bytearray()
        self._state = self._EXPECT_EBML
        self._init = bytearray()
        self._init_sent = False
        self._video_tracks = set()
        self._pending = bytearray()  # cluster start, until its first video block
        self._pending_open = False
        self._out = bytearray()  # whole cluster children, flushed at the end of feed()
        self._out_start = (False, False)  # (cluster_start, keyframe) of what _out holds
        self._cluster_remaining = None  # bytes left in a known-size cluster
        self._events = []

    def feed(self, data):
        if len(self._buf) + len(data) > MAX_BUFFER:
            raise WebMError("too_large", "incomplete element larger than the input buffer")
        self._buf += data
        self._events = events = []
        pos = 0
        try:
            while True:
                consumed = self._step(pos)
                if consumed is None:
                    break
                pos += consumed
        finally:
            del self._buf[:pos]
        self._flush_out()
        self._events = []
        return events

    # --- parsing --------------------------------------------------------------------
    def _step(self, pos):
        """Parse one element at pos; return bytes consumed, or None if more input is needed."""
        header = read_element_header(self._buf, pos)
        if header is None:
            return None
        element_id, size, header_len = header
        if self._state == self._EXPECT_EBML:
            if element_id != EBML:
                raise WebMError("not_webm", "the stream does not start with an EBML header")
            return self._take_header_element(pos, element_id, size, header_len, new_stream=True)
        if self._state == self._EXPECT_SEGMENT:
            if element_id != SEGMENT:
                raise WebMError("not_webm", "expected a Segment after the EBML header")
            self._init += self._buf[pos : pos + header_len]
            self._state = self._SEGMENT
            return header_len
        if self._state == self._CLUSTER:
            ends_cluster = element_id in LEVEL1 or element_id == EBML
            if self._cluster_remaining == 0 or (self._cluster_remaining is None and ends_cluster):
                self._end_cluster()
                return 0
            return self._take_cluster_child(pos, element_id, size, header_len)
        # Top level of the segment.
        if element_id == EBML:
            # The recorder restarted: a whole new stream follows on the same socket.
            self._state = self._EXPECT_EBML
            self._init = bytearray()
            self._init_sent = False
            return 0
        if element_id == CLUSTER:
            if not self._init_sent:
                if not self._video_tracks:
                    raise WebMError("not_webm", "no video track before the first cluster")
                self._events.append(InitSegment(bytes(self._init)))
                self._init_sent = True
            self._state = self._CLUSTER
            self._cluster_remaining = None if size < 0 else size
            self._pending = bytearray(self._buf[pos : pos + header_len])
            self._pending_open = True
            return header_len
        if size < 0:
            raise WebMError("bad_element", "level-1 element of unknown size")
        if self._init_sent:
            # Cues, Tags and the like after media: viewers need none of it.
            if size > MAX_HEADER_ELEMENT:
                raise WebMError("too_large", "level-1 element too large")
            if pos + header_len + size > len(self._buf):
                return None
            return header_len + size
        return self._take_header_element(pos, element_id, size, header_len, new_stream=False)

    def _take_header_element(self, pos, element_id, size, header_len, *, new_stream):
        if size < 0 or size > MAX_HEADER_ELEMENT:
            raise WebMError("too_large", "header element too large or unsized")
        end = pos + header_len + size
        if end > len(self._buf):
            return None
        element = self._buf[pos:end]
        if new_stream:
            self._init = bytearray(element)
            self._video_tracks = set()
            self._state = self._EXPECT_SEGMENT
        else:
            self._init += element
            if len(self._init) > MAX_INIT:
                raise WebMError("too_large", "init segment too large")
            if element_id == TRACKS:
                self._video_tracks = video_track_numbers(bytes(element[header_len:]))
        return end - pos

    def _take_cluster_child(self, pos, element_id, size, header_len):
        if size < 0:
            raise WebMError("bad_element", "cluster child of unknown size")
        if size > MAX_BLOCK:
            raise WebMError("too_large", "media block too large")
        end = pos + header_len + size
        if end > len(self._buf):
            return None
        element = self._buf[pos:end]
        if self._cluster_remaining is not None:
            self._cluster_remaining -= end - pos
            if self._cluster_remaining < 0:
                raise WebMError("bad_element", "cluster child overruns the cluster")
        if not self._pending_open:
            self._out += element
            return end - pos
        self._pending += element
        if len(self._pending) > MAX_PENDING:
            raise WebMError("too_large", "cluster without a video block")
        keyframe = self._video_keyframe(element_id, bytes(element[header_len:]))
        if keyframe is not None:
            self._flush_pending(keyframe)
        return end - pos

    def _video_keyframe(self, element_id, payload):
        """True/False for a video block, None for anything else."""
        if element_id == SIMPLE_BLOCK:
            track, flags = block_track_and_flags(payload)
            return bool(flags & 0x80) if track in self._video_tracks else None
        if element_id == BLOCK_GROUP:
            fields = dict(iter_children(payload))
            if BLOCK not in fields:
                return None
            track, _ = block_track_and_flags(fields[BLOCK])
            return REFERENCE_BLOCK not in fields if track in self._video_tracks else None
        return None

    def _flush_out(self):
        if self._out:
            start, keyframe = self._out_start
            self._events.append(
                MediaPiece(bytes(self._out), cluster_start=start, keyframe=keyframe)
            )
            self._out.clear()
            self._out_start = (False, False)

    def _flush_pending(self, keyframe):
        # The cluster's start, now that its keyframe flag is known, goes out with the
        # elements that follow it in this same input (one piece, one send per viewer).
        self._out = self._pending
        self._out_start = (True, keyframe)
        self._pending = bytearray()
        self._pending_open = False

    def _end_cluster(self):
        if self._pending_open:
            # A cluster with no video block (audio only): relay it, never as a keyframe.
            self._flush_pending(False)
        self._flush_out()
        self._state = self._SEGMENT
        self._cluster_remaining = None
