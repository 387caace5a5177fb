"""Where things are: the repository root and the real documents next to it (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL_DOCS = SHARED / "real-docs"
