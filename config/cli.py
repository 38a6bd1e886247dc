"""Reading a management command's input, refusing what cannot be read with exit 2 and one line
(the contract every command of contracts.md keeps)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from .jsonlimits import JSONTooComplex, loads_limited

#: The largest JSON document a command reads (import_history of a long history is the biggest).
MAX_JSON_BYTES = 256 * 1024 * 1024


def fail(line: str) -> NoReturn:
    sys.stderr.write(line.replace("\n", " ").strip() + "\n")
    sys.exit(2)


def read_bytes(path: str) -> bytes:
    """The bytes of `path`, or of standard input for "-"."""
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        fail(f"{path}: no such file (it does not exist)")
    if p.is_dir():
        fail(f"{path}: is a directory, not a file")
    try:
        return p.read_bytes()
    except OSError as e:
        fail(f"{path}: cannot be read ({e.strerror})")


def read_json(path: str) -> Any:
    """The JSON document in `path` (UTF-8), or of standard input for "-"."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        fail(f"input: not UTF-8 text (invalid byte at offset {e.start})")
    try:
        return loads_limited(text, max_bytes=MAX_JSON_BYTES)
    except JSONTooComplex as e:
        fail(f"input: refused: {e}")
    except json.JSONDecodeError as e:
        fail(f"input: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
