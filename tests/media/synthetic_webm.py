"""A WebM VP8 recording of any size, made in memory with PyAV's libvpx encoder from
FFmpeg's moving test pattern: for pictures larger than the fake-camera fixtures (tests of
the thumbnails, bench/thumbnails.py). Nothing is written to disk."""

import io

RATE = 30


def synthetic_webm(width, height, *, seconds=2, keyframe_every_s=1, bitrate="2500k"):
    import av
    import av.filter

    graph = av.filter.Graph()
    source = graph.add("testsrc2", f"size={width}x{height}:rate={RATE}")
    sink = graph.add("buffersink")
    source.link_to(sink)
    graph.configure()
    output = io.BytesIO()
    with av.open(output, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"deadline": "realtime", "cpu-used": "8", "b": bitrate}
        stream.codec_context.gop_size = RATE * keyframe_every_s
        for index in range(RATE * seconds):
            frame = graph.pull().reformat(format="yuv420p")
            frame.pts = index
            # The test source marks every frame as intra, which libvpx obeys.
            frame.pict_type = av.video.frame.PictureType.NONE
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return output.getvalue()
