"""The PNG walk: every chunk's length, type and CRC, IHDR first and once, IEND last."""

from __future__ import annotations

import zlib

from sidecar._hotpath_py.common import Defect, State, be32


def walk_png(d: bytes, st: State) -> int:
    n = len(d)
    pos = 8
    first = True
    seen_idat = seen_plte = False
    colour = 0
    while True:
        if pos + 8 > n:
            raise Defect("TRUNCATED", "PNG ends before IEND", pos)
        length = be32(d, pos)
        if length > 0x7FFFFFFF:
            raise Defect("MALFORMED", "PNG chunk length out of range", pos)
        for k in range(pos + 4, pos + 8):
            c = d[k] | 0x20
            if c < 0x61 or c > 0x7A:
                raise Defect("MALFORMED", "PNG chunk type is not four letters", pos)
        if length > n - pos - 12:
            raise Defect("TRUNCATED", "PNG chunk runs past the end of the data", pos)
        stored = be32(d, pos + 8 + length)
        if zlib.crc32(d[pos + 4 : pos + 8 + length]) != stored:
            raise Defect("MALFORMED", "PNG chunk CRC mismatch", pos)
        ctype = d[pos + 4 : pos + 8]
        if first and ctype != b"IHDR":
            raise Defect("MALFORMED", "PNG does not start with IHDR", pos)
        if ctype == b"IHDR":
            if not first:
                raise Defect("MALFORMED", "PNG has more than one IHDR", pos)
            if length != 13:
                raise Defect("MALFORMED", "PNG IHDR has the wrong length", pos)
            w = be32(d, pos + 8)
            h = be32(d, pos + 12)
            if w == 0 or h == 0:
                raise Defect("MALFORMED", "PNG has a zero dimension", pos)
            if w > 0x7FFFFFFF or h > 0x7FFFFFFF:
                raise Defect("MALFORMED", "PNG dimension out of range", pos)
            st.width, st.height = w, h
            depth, colour = d[pos + 16], d[pos + 17]
            if not (
                (colour == 0 and depth in (1, 2, 4, 8, 16))
                or (colour == 3 and depth in (1, 2, 4, 8))
                or (colour in (2, 4, 6) and depth in (8, 16))
            ):
                raise Defect("MALFORMED", "PNG has an invalid bit depth or colour type", pos)
            if d[pos + 18] != 0 or d[pos + 19] != 0 or d[pos + 20] > 1:
                raise Defect("MALFORMED", "PNG IHDR has an unknown method", pos)
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"PLTE":
            seen_plte = True
        elif ctype == b"IEND":
            if length != 0:
                raise Defect("MALFORMED", "PNG IEND is not empty", pos)
            if not seen_idat:
                raise Defect("MALFORMED", "PNG has no image data", pos)
            if colour == 3 and not seen_plte:
                raise Defect("MALFORMED", "PNG palette image has no PLTE", pos)
            return pos + 12
        first = False
        pos += 12 + length
