"""Read files into ``Document`` objects: .txt, .md, .html/.htm and .pdf.

Each failure is an ``IngestError`` naming the file and the reason in one line, raised
before anything touches the index.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from assistant.core.errors import IngestError
from assistant.core.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


def content_hash(text: str) -> str:
    """A stable id for a document's content (sha256 of its UTF-8 text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def doc_id_for(path: Path) -> str:
    """The document id is the file name: re-ingesting a file with that name replaces it."""
    return path.name


# Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _decode(data: bytes, path: Path) -> str:
    """Text from bytes: a BOM names the encoding (UTF-16/32 text is full of NUL bytes, so this
    comes before the binary check); else UTF-8, else Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(str(path), f"starts with a {encoding.upper()} mark but is not valid "
                                             f"{encoding.upper()} text") from None
    if b"\x00" in data[:8192]:
        raise IngestError(str(path), "looks binary (NUL bytes); expected a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise IngestError(str(path), "is not valid UTF-8 text") from None


def _html_to_text(html: str) -> str:
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:  # pragma: no cover
        raise ImportError("HTML files need beautifulsoup4: pip install beautifulsoup4") from exc
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre"]):
        if el.find_parent(["p", "li", "blockquote"]) is not None:
            continue
        t = " ".join(el.get_text(" ").split())
        if t:
            blocks.append(t)
    if not blocks:
        blocks = [" ".join(soup.get_text(" ").split())]
    return "\n\n".join(blocks)


def _pdf_to_text(data: bytes, path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover
        raise ImportError("PDF files need pypdf: pip install pypdf") from exc
    import io

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types on broken files
        raise IngestError(str(path), f"is not a readable PDF ({type(exc).__name__}: {exc})") from None
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _normalise(text: str) -> str:
    """Unify line endings and drop control characters; keep every other character."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)


def load_bytes(data: bytes, path: Path, max_bytes: int = 20_000_000) -> Document:
    """Turn a file's bytes into a ``Document`` (used for uploads as well as paths)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(
            str(path),
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}",
        )
    if len(data) > max_bytes:
        raise IngestError(str(path), f"is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if suffix in PDF_SUFFIXES:
        if not data.startswith(b"%PDF"):
            raise IngestError(str(path), "is not a PDF (no %PDF header)")
        text = _pdf_to_text(data, path)
    else:
        text = _decode(data, path)
        if suffix in HTML_SUFFIXES:
            text = _html_to_text(text)
    text = _normalise(text)
    if not text.strip():
        raise IngestError(str(path), "is empty (no text to index)")
    return Document(
        doc_id=doc_id_for(path), text=text, source=str(path), content_hash=content_hash(text), title=path.stem
    )


def load_file(path: Path, max_bytes: int = 20_000_000) -> Document:
    """Read one file; every problem becomes an ``IngestError`` naming the file.

    Only regular files are read, and never more than ``max_bytes + 1`` bytes: a FIFO would
    block forever and a link to /dev/zero would read without end. The file is opened without
    blocking and checked on the open descriptor, so it cannot be swapped in between.
    """
    if path.is_dir():
        raise IngestError(str(path), "is a folder; pass files or use collect_files")
    try:
        data = _read_regular(path, max_bytes)
    except FileNotFoundError:
        raise IngestError(str(path), "does not exist") from None
    except PermissionError:
        raise IngestError(str(path), "cannot be read (permission denied)") from None
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return load_bytes(data, path, max_bytes)


def _read_regular(path: Path, max_bytes: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise IngestError(str(path), f"is not a regular file ({kind}); only files are read")
        if info.st_size > max_bytes:
            raise IngestError(str(path), f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew after the size check
        raise IngestError(str(path), f"is over the {max_bytes:,}-byte limit")
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def collect_files(paths: list[Path]) -> list[Path]:
    """Expand folders into their supported files (sorted); keep explicit files as given."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.suffix.lower() in SUPPORTED
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        else:
            out.append(p)
    return out
