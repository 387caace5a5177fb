"""The JPEG walk: marker by marker to EOI, one frame header, entropy-coded scans skipped."""

from __future__ import annotations

from sidecar._hotpath_py.common import Defect, State, be16


def _is_sof(m: int) -> bool:
    return 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)


def walk_jpeg(d: bytes, st: State) -> int:
    n = len(d)
    pos = 2
    seen_sof = seen_sos = False
    while True:
        if pos >= n:
            raise Defect("TRUNCATED", "JPEG ends before EOI", pos)
        if d[pos] != 0xFF:
            raise Defect("MALFORMED", "JPEG marker expected", pos)
        while pos < n and d[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise Defect("TRUNCATED", "JPEG ends before EOI", pos)
        m = d[pos]
        pos += 1
        if m == 0xD9:
            if not seen_sof:
                raise Defect("MALFORMED", "JPEG has no frame header", pos)
            if not seen_sos:
                raise Defect("MALFORMED", "JPEG has no scan", pos)
            return pos
        if m == 0x00:
            raise Defect("MALFORMED", "JPEG has a stuffed byte outside a scan", pos)
        if m == 0xD8:
            raise Defect("MALFORMED", "JPEG has a second SOI", pos)
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            continue
        if pos + 2 > n:
            raise Defect("TRUNCATED", "JPEG ends inside a segment", pos)
        seglen = be16(d, pos)
        if seglen < 2:
            raise Defect("MALFORMED", "JPEG segment length is too small", pos)
        if seglen > n - pos:
            raise Defect("TRUNCATED", "JPEG segment runs past the end of the data", pos)
        if _is_sof(m):
            if seen_sof:
                raise Defect("MALFORMED", "JPEG has more than one frame header", pos)
            if seglen < 8:
                raise Defect("MALFORMED", "JPEG frame header is too short", pos)
            h = be16(d, pos + 3)
            w = be16(d, pos + 5)
            comps = d[pos + 7]
            if w == 0 or h == 0:
                raise Defect("MALFORMED", "JPEG has a zero dimension", pos)
            st.width, st.height = w, h
            if comps == 0 or comps > 4:
                raise Defect("MALFORMED", "JPEG has an invalid component count", pos)
            if seglen != 8 + 3 * comps:
                raise Defect("MALFORMED", "JPEG frame header length does not match its components", pos)
            seen_sof = True
            pos += seglen
        elif m == 0xDA:
            if not seen_sof:
                raise Defect("MALFORMED", "JPEG scan before its frame header", pos)
            seen_sos = True
            pos += seglen
            # Entropy-coded data: runs to the next marker that is not a stuffed 0x00 or a restart.
            while True:
                i = d.find(b"\xff", pos)
                if i < 0 or i + 1 >= n:
                    raise Defect("TRUNCATED", "JPEG ends inside a scan", pos)
                nb = d[i + 1]
                if nb == 0x00 or 0xD0 <= nb <= 0xD7:
                    pos = i + 2
                elif nb == 0xFF:
                    pos = i + 1
                else:
                    pos = i
                    break
        else:
            pos += seglen
