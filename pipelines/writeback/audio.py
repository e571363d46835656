"""Is this file audio? The formats a voicemail may be, told by magic bytes first, then by reading the stream.

Magic bytes alone let anything through that starts right: a text file beginning with `ID3`, a photo whose
`ftyp` box says HEIC, a video-only MP4 or Ogg Theora. So after the sniff, the container is read as far as
it takes to find an audio stream: mutagen (https://mutagen.readthedocs.io) parses WAV (`fmt ` chunk with
channels and a rate), MP3 (MPEG frames after the ID3 tag: 4 in a row, or a Xing/VBRI header; a "sketchy"
sync is not enough), ADTS AAC (3 frames), Ogg (a Vorbis, Opus, FLAC or Speex stream), FLAC (STREAMINFO)
and MP4/M4A (a sound track with a sample entry). mutagen reads neither WebM nor AMR; for those this module
walks the container itself: the EBML header and the Segment's Tracks for an audio TrackEntry (TrackType 2),
and AMR's frames (every frame header valid, up to the end of the file).
"""

import os
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterator, Optional, Tuple

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


@dataclass(frozen=True)
class AudioFormat:
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
    ".wav": "wav",
    ".wave": "wav",
    ".mp3": "mp3",
    ".aac": "aac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".flac": "flac",
    ".webm": "webm",
    ".weba": "webm",
    ".m4a": "m4a",
    ".amr": "amr",
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
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:6] == b"#!AMR\n":
        return "amr"
    return None


def stream_problem(path: str, fmt: str) -> Optional[str]:
    """Why the file holds no `fmt` audio stream (one short line), or None when it does.

    A parser reading untrusted bytes may fail in any way; every failure means the same thing here (no
    audio found), and must not stop the other rows.
    """
    try:
        return _CHECKS[fmt](path)
    except Exception as exc:  # noqa: BLE001 - any parse failure of an untrusted file is "not audio"
        # mutagen names the file it was given: the message names it already, in the manifest's words
        detail = one_line(str(exc).replace(repr(path), "").replace(path, "").strip()) or type(exc).__name__
        return f"no {FORMATS[fmt].name} audio stream could be read ({detail[:120]})"


# ------------------------------------------------------------------------------------- through mutagen
def _wav(path: str) -> Optional[str]:
    info = WAVE(path).info
    return None if info.channels and info.sample_rate else "its fmt chunk declares no channels or no sample rate"


def _mp3(path: str) -> Optional[str]:
    return "no run of valid MPEG audio frames" if MP3(path).info.sketchy else None


def _aac(path: str) -> Optional[str]:
    return None if AAC(path).info.sample_rate else "its ADTS frames declare no sample rate"


def _ogg(path: str) -> Optional[str]:
    for kind in (OggVorbis, OggOpus, OggFLAC, OggSpeex):
        try:
            kind(path)
            return None
        except Exception:  # noqa: BLE001 - the next codec may read it
            continue
    return "no Vorbis, Opus, FLAC or Speex stream in the Ogg container"


def _flac(path: str) -> Optional[str]:
    info = FLAC(path).info
    return None if info.channels and info.sample_rate else "its STREAMINFO declares no channels or no sample rate"


def _m4a(path: str) -> Optional[str]:
    info = MP4(path).info
    # without a sound track mutagen still answers (the movie's length from mvhd), with no codec
    return None if info.codec and info.channels else "no sound track in the MP4 container"


# ------------------------------------------------------------------------------------------- WebM (EBML)
_EBML, _DOCTYPE, _SEGMENT, _TRACKS, _TRACK_ENTRY, _TRACK_TYPE, _CLUSTER = (
    0x1A45DFA3,
    0x4282,
    0x18538067,
    0x1654AE6B,
    0xAE,
    0x83,
    0x1F43B675,
)
_AUDIO_TRACK = 2


def _vint(fh: BinaryIO, keep_marker: bool) -> Optional[Tuple[int, bool]]:
    """An EBML variable-length integer: (value, all value bits set = unknown size), or None at the end."""
    first = fh.read(1)
    if not first:
        return None
    length = 9 - first[0].bit_length()
    if length > 8:
        raise ValueError("invalid EBML length")
    rest = fh.read(length - 1)
    if len(rest) != length - 1:
        raise ValueError("truncated EBML element")
    value = int.from_bytes(first + rest, "big")
    bare = value & ~(1 << (7 * length))
    return (value if keep_marker else bare), bare == (1 << (7 * length)) - 1


def _elements(fh: BinaryIO, end: int) -> Iterator[Tuple[int, int, Optional[int]]]:
    """(id, payload start, payload end or None for an unknown size) of each element up to `end`."""
    while fh.tell() < end:
        ident = _vint(fh, keep_marker=True)
        size = _vint(fh, keep_marker=False)
        if ident is None or size is None:
            return
        start = fh.tell()
        stop = None if size[1] else start + size[0]
        if stop is not None and stop > end:
            raise ValueError("an EBML element runs past the end of the file")
        yield ident[0], start, stop
        if stop is None:
            return
        fh.seek(stop)


def _webm(path: str) -> Optional[str]:
    end = os.path.getsize(path)
    with open(path, "rb") as fh:
        top = _elements(fh, end)
        ident, start, stop = next(top, (0, 0, None))
        if ident != _EBML or stop is None:
            return "no EBML header"
        doctype = b""
        for child, c_start, c_stop in _elements(fh, stop):
            if child == _DOCTYPE and c_stop is not None:
                fh.seek(c_start)
                doctype = fh.read(c_stop - c_start).rstrip(b"\x00")
        if doctype not in (b"webm", b"matroska"):
            return f"its EBML DocType is {doctype.decode('latin-1')!r}, not webm"
        fh.seek(stop)
        for ident, start, stop in _elements(fh, end):
            if ident == _SEGMENT:
                return None if _segment_has_audio(fh, start, stop or end) else "no audio track in its Tracks"
    return "no Segment"


def _segment_has_audio(fh: BinaryIO, start: int, end: int) -> bool:
    fh.seek(start)
    for ident, t_start, t_stop in _elements(fh, end):
        if ident == _CLUSTER:
            return False  # the Tracks come before the first Cluster
        if ident != _TRACKS or t_stop is None:
            continue
        fh.seek(t_start)
        for entry, e_start, e_stop in list(_elements(fh, t_stop)):
            if entry != _TRACK_ENTRY or e_stop is None:
                continue
            fh.seek(e_start)
            for field, f_start, f_stop in list(_elements(fh, e_stop)):
                if field == _TRACK_TYPE and f_stop is not None:
                    fh.seek(f_start)
                    if int.from_bytes(fh.read(f_stop - f_start), "big") == _AUDIO_TRACK:
                        return True
        fh.seek(t_stop)
    return False


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
    "wav": _wav,
    "mp3": _mp3,
    "aac": _aac,
    "ogg": _ogg,
    "flac": _flac,
    "m4a": _m4a,
    "webm": _webm,
    "amr": _amr,
}
