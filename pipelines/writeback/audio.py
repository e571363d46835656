"""Is this file audio? Magic bytes first, then the stream itself: a text file starting `ID3`, a HEIC photo
(an `ftyp` box) or a video-only MP4 starts right and holds no audio. mutagen reads every format's stream
but WebM and AMR, which are walked here: the EBML Tracks for an audio TrackEntry, and AMR's frames."""

import functools
import mmap
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple

import mutagen
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from sources.http_kit.redact import one_line


class AudioFormat(NamedTuple):
    name: str
    mime: str


FORMATS: Dict[str, AudioFormat] = {
    "wav": AudioFormat("WAV", "audio/wav"),
    "mp3": AudioFormat("MP3", "audio/mpeg"),
    "aac": AudioFormat("AAC", "audio/aac"),
    "ogg": AudioFormat("Ogg", "audio/ogg"),
    "flac": AudioFormat("FLAC", "audio/flac"),
    "webm": AudioFormat("WebM", "audio/webm"),
    "m4a": AudioFormat("M4A", "audio/mp4"),
    "amr": AudioFormat("AMR", "audio/amr"),
}
#: file extension -> format; the content must carry that format's magic bytes and an audio stream
AUDIO_EXTENSIONS: Dict[str, str] = {
    **{f".{fmt}": fmt for fmt in FORMATS},
    **{".wave": "wav", ".oga": "ogg", ".opus": "ogg", ".weba": "webm"},
}


def sniff_audio(head: bytes) -> Optional[str]:
    """The audio format whose magic bytes start `head` (at least 12 bytes), or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00
            return "aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame sync, layer I-III
            return "mp3"
    magic = {b"OggS": "ogg", b"fLaC": "flac", b"\x1aE\xdf\xa3": "webm"}.get(head[:4])
    if magic:
        return magic
    if head[4:8] == b"ftyp":
        return "m4a"
    return "amr" if head[:6] == b"#!AMR\n" else None


def stream_problem(path: str, fmt: str) -> Optional[str]:
    """Why the file holds no `fmt` audio stream (one short line), or None when it does. A parser of untrusted
    bytes may fail in any way: every failure means "no audio", and must not stop the other rows."""
    try:
        return _CHECKS[fmt](path)
    except Exception as exc:  # noqa: BLE001 - any parse failure of an untrusted file is "not audio"
        # mutagen names the file it was given: the message names it already, in the manifest's words
        detail = one_line(str(exc).replace(repr(path), "").replace(path, "").strip()) or type(exc).__name__
        return f"no {FORMATS[fmt].name} audio stream could be read ({detail[:120]})"


#: mutagen's readers per format, what a stream must declare, and what is missing when none does
_MUTAGEN: Dict[str, Tuple[Tuple[Any, ...], Callable[[Any], Any], str]] = {
    "wav": ((WAVE,), lambda i: i.channels and i.sample_rate, "its fmt chunk declares no channels or no sample rate"),
    # one lucky sync after the ID3 tag is "sketchy": a run of frames, or a Xing/VBRI header, is not
    "mp3": ((MP3,), lambda i: not i.sketchy, "no run of valid MPEG audio frames"),
    "aac": ((AAC,), lambda i: i.sample_rate, "its ADTS frames declare no sample rate"),
    "ogg": (
        (OggVorbis, OggOpus, OggFLAC, OggSpeex),
        lambda i: True,
        "no Vorbis, Opus, FLAC or Speex stream in the Ogg container",
    ),
    "flac": ((FLAC,), lambda i: i.channels and i.sample_rate, "its STREAMINFO declares no channels or no sample rate"),
    # without a sound track mutagen still answers (the movie's length), with no codec
    "m4a": ((MP4,), lambda i: i.codec and i.channels, "no sound track in the MP4 container"),
}


def _mutagen(fmt: str, path: str) -> Optional[str]:
    readers, holds_audio, missing = _MUTAGEN[fmt]
    found = mutagen.File(path, options=readers)  # None when no reader knows the header (only Ogg's can miss)
    return None if found is not None and holds_audio(found.info) else missing


# ------------------------------------------------------------------------------------------- WebM (EBML)
_EBML, _DOCTYPE, _SEGMENT, _CLUSTER = 0x1A45DFA3, 0x4282, 0x18538067, 0x1F43B675
_TRACKS, _TRACK_ENTRY, _TRACK_TYPE = 0x1654AE6B, 0xAE, 0x83
_AUDIO_TRACK = 2


def _vint(data: bytes, pos: int) -> Tuple[int, int, int]:
    """An EBML variable-length integer at `pos`: (value with its length marker, length, value without)."""
    if pos >= len(data) or not data[pos]:
        raise ValueError("invalid EBML length")
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        raise ValueError("truncated EBML element")
    value = int.from_bytes(data[pos : pos + length], "big")
    return value, length, value & ~(1 << (7 * length))


def _elements(data: bytes, pos: int, end: int) -> Iterator[Tuple[int, int, int]]:
    """(id, payload start, payload end) of each element from `pos` to `end`; an unknown size runs to `end`."""
    while pos < end:
        ident, length, _ = _vint(data, pos)
        _, size_length, size = _vint(data, pos + length)
        pos += length + size_length
        stop = end if size == (1 << (7 * size_length)) - 1 else pos + size
        if stop > end:
            raise ValueError("an EBML element runs past the end of the file")
        yield ident, pos, stop
        pos = stop


def _webm(path: str) -> Optional[str]:
    # mapped, not read: a file of up to 25 MB, of which the header and Tracks before the first Cluster count
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        top = _elements(data, 0, len(data))
        ident, start, stop = next(top, (0, 0, 0))
        if ident != _EBML:
            return "no EBML header"
        doctype = next((data[a:b].rstrip(b"\x00") for i, a, b in _elements(data, start, stop) if i == _DOCTYPE), b"")
        if doctype not in (b"webm", b"matroska"):
            return f"its EBML DocType is {doctype.decode('latin-1')!r}, not webm"
        segment = next(((a, b) for i, a, b in top if i == _SEGMENT), None)
        if segment is None:
            return "no Segment"
        for ident, start, stop in _elements(data, *segment):
            if ident == _CLUSTER:
                break  # the Tracks come before the first Cluster
            if ident != _TRACKS:
                continue
            entries = [(a, b) for i, a, b in _elements(data, start, stop) if i == _TRACK_ENTRY]
            kinds = [data[a:b] for e in entries for i, a, b in _elements(data, *e) if i == _TRACK_TYPE]
            if _AUDIO_TRACK in (int.from_bytes(k, "big") for k in kinds):
                return None
        return "no audio track in its Tracks"


# ------------------------------------------------------------------------------------------------- AMR
#: bytes per frame (header included) by frame type: 0-7 speech modes, 8 comfort noise, 15 no data
_AMR_FRAME = {0: 13, 1: 14, 2: 16, 3: 18, 4: 20, 5: 21, 6: 27, 7: 32, 8: 6, 15: 1}


def _amr(path: str) -> Optional[str]:
    with open(path, "rb") as fh:
        data = fh.read()
    offset, speech = 6, 0
    while offset < len(data):
        header = data[offset]
        kind = (header >> 3) & 0x0F
        if header & 0x83 or kind not in _AMR_FRAME:
            return f"byte {offset:,} is not an AMR frame header"
        speech += kind <= 7
        offset += _AMR_FRAME[kind]
    if offset != len(data):
        return "its last AMR frame is cut short"
    return None if speech else "no speech frame"


_CHECKS: Dict[str, Callable[[str], Optional[str]]] = {
    **{fmt: functools.partial(_mutagen, fmt) for fmt in _MUTAGEN},
    "webm": _webm,
    "amr": _amr,
}
