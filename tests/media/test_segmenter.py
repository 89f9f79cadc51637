"""The WebM segmenter against streams recorded by Chromium's MediaRecorder (small files
in tests/media/fixtures, made by tests/media/record_fixture.py) and against bad input."""

import pytest

from broadcast.webm import (
    EBML,
    MAX_BUFFER,
    InitSegment,
    MediaPiece,
    Segmenter,
    WebMError,
    read_element_header,
)
from tests.media.conftest import FIXTURES

RECORDINGS = sorted(FIXTURES.glob("*.webm"))


def feed_in_chunks(data, size, segmenter=None):
    segmenter = segmenter or Segmenter()
    events = []
    for start in range(0, len(data), size):
        events += segmenter.feed(data[start : start + size])
    return events


def split(events):
    inits = [e for e in events if isinstance(e, InitSegment)]
    pieces = [e for e in events if isinstance(e, MediaPiece)]
    return inits, pieces


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [10**9, 4096, 333, 7])
def test_recording_splits_into_init_and_pieces_that_rebuild_it_exactly(path, chunk):
    data = path.read_bytes()
    inits, pieces = split(feed_in_chunks(data, chunk))
    assert len(inits) == 1
    init = inits[0].data
    assert read_element_header(init, 0)[0] == EBML
    assert b"V_VP8" in init and b"A_OPUS" in init
    assert b"\x1f\x43\xb6\x75" not in init  # no Cluster in the init segment
    assert init + b"".join(p.data for p in pieces) == data


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_keyframe_clusters_are_found_by_the_first_video_block(path):
    """A keyframe every second: the clusters that start on one are marked, and Chrome's
    extra clusters cut at each timeslice are not."""
    _, pieces = split(feed_in_chunks(path.read_bytes(), 1000))
    starts = [p for p in pieces if p.cluster_start]
    keyframes = [p for p in starts if p.keyframe]
    assert starts[0].keyframe, "a recording starts on a keyframe"
    assert 2 <= len(keyframes) < len(starts)
    assert all(p.data.startswith(b"\x1f\x43\xb6\x75") for p in starts)
    assert not any(p.keyframe for p in pieces if not p.cluster_start)


def test_pieces_end_on_element_boundaries_so_nothing_waits_for_the_next_cluster(fixture_webm):
    """Whatever arrives is relayed at once, up to the last whole element."""
    segmenter = Segmenter()
    events = segmenter.feed(fixture_webm[:20_000])
    inits, pieces = split(events)
    assert inits and pieces
    relayed = len(inits[0].data) + sum(len(p.data) for p in pieces)
    assert 20_000 - relayed < 12_000  # at most one incomplete block held back


def test_truncated_stream_waits_for_more_without_error(fixture_webm):
    segmenter = Segmenter()
    assert segmenter.feed(fixture_webm[:30]) == []  # inside the EBML header
    rest = segmenter.feed(fixture_webm[30:5000])
    assert isinstance(rest[0], InitSegment)


def test_a_restarted_recorder_on_the_same_socket_starts_a_new_stream(fixture_webm):
    """Lowering the bitrate restarts MediaRecorder: its chunks end on whole elements,
    then a new EBML header follows."""
    first_init, first_pieces = split(feed_in_chunks(fixture_webm, 1000))
    cut = first_init[0].data + b"".join(p.data for p in first_pieces[:7])
    inits, pieces = split(feed_in_chunks(cut + fixture_webm, 5000))
    assert len(inits) == 2
    assert inits[0].data == inits[1].data
    assert sum(p.keyframe for p in pieces) == 1 + sum(p.keyframe for p in first_pieces)


def test_reset_forgets_a_half_parsed_stream(fixture_webm):
    segmenter = Segmenter()
    segmenter.feed(fixture_webm[:30_001])
    segmenter.reset()
    inits, _ = split(segmenter.feed(fixture_webm))
    assert len(inits) == 1


@pytest.mark.parametrize(
    ("garbage", "code"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "not_webm"),
        (b"\x00" * 64, "bad_element"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not_webm"),
    ],
)
def test_garbage_is_refused_with_a_stable_code(garbage, code):
    with pytest.raises(WebMError) as refused:
        Segmenter().feed(garbage)
    assert refused.value.code == code


def test_corrupted_cluster_is_refused(fixture_webm):
    segmenter = Segmenter()
    inits, pieces = split(segmenter.feed(fixture_webm[:20_000]))
    segmenter = Segmenter()
    segmenter.feed(inits[0].data + pieces[0].data)
    # A block claiming to be 64 MB long.
    with pytest.raises(WebMError) as refused:
        segmenter.feed(b"\xa3\x14\x00\x00\x00" + b"\x00" * 100)
    assert refused.value.code == "too_large"


def test_oversize_header_element_is_refused():
    with pytest.raises(WebMError) as refused:
        Segmenter().feed(b"\x1a\x45\xdf\xa3\x14\x00\x00\x00")
    assert refused.value.code == "too_large"


def test_input_never_buffers_beyond_its_bound(fixture_webm):
    segmenter = Segmenter()
    segmenter.feed(fixture_webm[:2000])
    with pytest.raises(WebMError):
        for _ in range(MAX_BUFFER // 65536 + 2):
            # An endless run of bytes that never completes an element.
            segmenter.feed(b"\xa3\x01\x7f\xff\xff" + b"\x00" * 65531)
