"""Reading a command's input file, refusing what cannot be read with exit 2 and one line."""

from __future__ import annotations

import sys
from pathlib import Path


def fail(line: str) -> None:
    sys.stderr.write(line.replace("\n", " ").strip() + "\n")
    sys.exit(2)


def read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        fail(f"{path}: no such file")
    if p.is_dir():
        fail(f"{path}: is a directory, not a file")
    try:
        return p.read_bytes()
    except OSError as e:
        fail(f"{path}: cannot be read ({e.strerror})")
    return b""  # unreachable
