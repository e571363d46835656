"""Tiny real audio files for every accepted format, built in the test (no fixtures to keep in sync), and
files that only look like audio: the voicemail checks must tell the two apart by reading the stream.

`seed` changes the samples, so two files of one format have different sha256 (different voicemails).
"""

import io
import struct
import wave
from typing import Callable, Dict, List

from mutagen.ogg import OggPage


def wav(seed: int = 0) -> bytes:
    """PCM WAV through the standard library's writer: a `fmt ` chunk and a `data` chunk."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(struct.pack("<Q", seed) * 64)
    return out.getvalue()


def mp3(seed: int = 0, *, id3: bool = True) -> bytes:
    """An ID3v2 tag, then 8 MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, mono, 417 bytes each)."""
    header = b"\xff\xfb\x90\xc0"
    frame = header + struct.pack("<Q", seed) + bytes(417 - len(header) - 8)
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00" if id3 else b""
    return tag + frame * 8


def aac(seed: int = 0) -> bytes:
    """10 ADTS frames (AAC LC, 44.1 kHz, mono), 23 bytes each."""
    length = 23
    header = bytes([0xFF, 0xF1, 0x50, 0x40 | (length >> 11), (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC])
    return (header + struct.pack("<Q", seed) + bytes(length - 15)) * 10


def _ogg(first: bytes, second: bytes, seed: int) -> bytes:
    """Two Ogg pages (CRCs written by mutagen): the codec's identification packet, then its comments."""
    out = b""
    for sequence, packet in enumerate((first, second)):
        page = OggPage()
        page.serial, page.sequence, page.position = 7 + seed, sequence, 0
        page.first, page.last = sequence == 0, sequence == 1
        page.packets = [packet]
        out += page.write()
    return out


def ogg(seed: int = 0) -> bytes:
    """Ogg Vorbis: the identification header and a comment header."""
    ident = b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, 1, 44100, 0, 128000, 0, 0xB8, 1)
    vendor = b"tests %d" % seed
    comments = b"\x03vorbis" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0) + b"\x01"
    return _ogg(ident, comments, seed)


def opus(seed: int = 0) -> bytes:
    """Ogg Opus: OpusHead and OpusTags."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    vendor = b"tests %d" % seed
    return _ogg(head, b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0), seed)


def theora(seed: int = 0) -> bytes:
    """Ogg holding a Theora (video) stream: an Ogg container, but no audio in it."""
    ident = b"\x80theora" + bytes([3, 2, 1]) + struct.pack(">HH", 2, 2) + bytes(26)
    return _ogg(ident, b"\x81theora" + struct.pack("<I", seed) + bytes(8), seed)


def flac(seed: int = 0) -> bytes:
    """fLaC and its STREAMINFO block (44.1 kHz, mono, 16 bits)."""
    bits = (44100 << 44) | (0 << 41) | (15 << 36) | (44100 + seed)
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + struct.pack(">Q", bits) + bytes(16)
    return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full(kind: bytes, payload: bytes) -> bytes:
    return _box(kind, b"\x00\x00\x00\x00" + payload)


def _mp4(brand: bytes, handler: bytes, entry: bytes, seed: int) -> bytes:
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x00\x00" + brand + b"isom")
    mvhd = _full(b"mvhd", struct.pack(">IIII", 0, 0, 44100, 44100 + seed) + bytes(80))
    tkhd = _full(b"tkhd", struct.pack(">III", 0, 0, 1) + bytes(68))
    mdhd = _full(b"mdhd", struct.pack(">IIIIHH", 0, 0, 44100, 44100, 0x55C4, 0))
    hdlr = _full(b"hdlr", bytes(4) + handler + bytes(12) + b"handler\x00")
    stsd = _full(b"stsd", struct.pack(">I", 1) + entry)
    stbl = _box(b"stbl", stsd)
    minf = _box(b"minf", stbl)
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    return ftyp + _box(b"moov", mvhd + trak)


def m4a(seed: int = 0) -> bytes:
    """An MP4 with one sound track whose sample entry is `mp4a` (1 channel, 16 bits, 44.1 kHz)."""
    config = bytes([5, 2, 0x12, 0x08])  # DecoderSpecificInfo: AAC LC, 44.1 kHz, mono
    decoder = bytes([4, 13 + len(config), 0x40, 0x15]) + bytes(3) + struct.pack(">II", 128000, 128000) + config
    es = bytes([3, 3 + len(decoder) + 3]) + struct.pack(">HB", 1, 0) + decoder + bytes([6, 1, 2])
    audio = bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16)
    entry = _box(b"mp4a", audio + _full(b"esds", es))
    return _mp4(b"M4A ", b"soun", entry, seed)


def video_mp4(seed: int = 0) -> bytes:
    """An MP4 whose only track is video: an `ftyp` header, and no sound."""
    return _mp4(b"isom", b"vide", _box(b"avc1", bytes(78)), seed)


def heic(seed: int = 0) -> bytes:
    """An image: `ftyp heic` and a `meta` box, the way a phone photo starts."""
    return _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + _full(b"meta", struct.pack("<Q", seed) + bytes(24))


def _ebml(element: int, payload: bytes) -> bytes:
    ident = element.to_bytes((element.bit_length() + 7) // 8, "big")
    return ident + (0x0100000000000000 | len(payload)).to_bytes(8, "big") + payload


def webm(seed: int = 0, *, track_type: int = 2) -> bytes:
    """EBML header (DocType webm), then a Segment with Info and Tracks: one track of `track_type` (2 = audio)."""
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm"))
    entry = _ebml(0xAE, _ebml(0xD7, b"\x01") + _ebml(0x83, bytes([track_type])) + _ebml(0x86, b"A_OPUS"))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, struct.pack(">I", 1_000_000 + seed)))
    return header + _ebml(0x18538067, info + _ebml(0x1654AE6B, entry))


def amr(seed: int = 0) -> bytes:
    """AMR narrowband: the magic line, then 10 frames of mode 7 (12.2 kbit/s, 32 bytes each)."""
    frame = bytes([0x3C]) + struct.pack("<Q", seed) + bytes(23)
    return b"#!AMR\n" + frame * 10


#: a real file per accepted extension
SAMPLES: Dict[str, Callable[[int], bytes]] = {
    "wav": wav,
    "mp3": mp3,
    "aac": aac,
    "ogg": ogg,
    "opus": opus,
    "flac": flac,
    "webm": webm,
    "m4a": m4a,
    "amr": amr,
}

#: (file name, content, what the reason names): files whose first bytes are an audio format's, but hold no audio
IMPOSTORS: List[tuple] = [
    ("notes.mp3", b"ID3 is how these notes begin, and the rest is plain text.\n" * 20, "MP3"),
    ("photo.m4a", heic(), "M4A"),
    ("clip.m4a", video_mp4(), "M4A"),
    ("header-only.wav", b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(28), "WAV"),
    ("video.ogg", theora(), "Ogg"),
    ("video.webm", webm(track_type=1), "WebM"),
    ("text.flac", b"fLaC is a format; this file is only text about it.\n" * 4, "FLAC"),
    ("text.amr", b"#!AMR\nHello, this is a text file, not a recording.\n" * 4, "AMR"),
    ("one-frame.aac", aac()[:23] + b"text after one frame" * 10, "AAC"),
]
