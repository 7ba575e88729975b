"""AES-256-GCM file encryption in chunks: streaming, authenticated, truncation-proof.

Layout: a 24-byte header (magic "LBENC1", the chunk size, an 8-byte nonce prefix, 4 reserved bytes), then
the chunks, each `ciphertext || 16-byte tag`. Chunk i uses nonce `prefix || i` (a 96-bit GCM nonce that
never repeats under one key) and authenticates the header, i and whether it is the last chunk, and a context (the
file's path), so chunks cannot be reordered, files cannot be swapped or renamed, and a file cut off at a
chunk boundary does not pass (the STREAM construction of
Hoang, Reyhanitabar, Rogaway and Vizár, 2015). 4 MiB chunks keep memory flat and OpenSSL's AES-NI busy.
"""

from __future__ import annotations

import os
import secrets
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from luban.core.errors import StageError

MAGIC = b"LBENC1"
HEADER = struct.Struct(">6sI8s6x")  # magic, chunk size, nonce prefix, reserved: 24 bytes
CHUNK = 4 << 20
TAG = 16
MAX_CHUNK = 64 << 20  # a header asking for more is damaged (and must not make us allocate it)


def _aad(header: bytes, context: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, last) + context


def encrypt_file(src: Path, dst: Path, dek: bytes, context: bytes = b"", chunk: int = CHUNK) -> None:
    """Encrypt `src` into `dst`. `context` (e.g. the file's path in its artifact) is authenticated too:
    a file moved to another name no longer decrypts."""
    aes = AESGCM(dek)
    header = HEADER.pack(MAGIC, chunk, secrets.token_bytes(8))
    prefix = header[10:18]
    with src.open("rb") as fin, dst.open("wb") as fout:
        fout.write(header)
        index, block = 0, fin.read(chunk)
        while True:
            nxt = fin.read(chunk) if len(block) == chunk else b""
            last = not nxt
            fout.write(aes.encrypt(prefix + struct.pack(">I", index), block, _aad(header, context, index, last)))
            if last:
                return
            index, block = index + 1, nxt


def decrypt_file(src: Path, dst: Path, dek: bytes, context: bytes = b"") -> None:
    """Decrypt `src` into `dst`; any tampering, a wrong key or a cut-off file is a StageError naming `src`.
    Chunks are read and decrypted into two reused buffers and written with os.write: no allocation per chunk
    (a third faster into memory than decrypt-and-write of new bytes objects)."""
    aes = AESGCM(dek)
    with src.open("rb", buffering=0) as fin:
        header = fin.read(HEADER.size)
        if len(header) != HEADER.size or not header.startswith(MAGIC):
            raise StageError(f"{src.name} is not a Luban-encrypted file", "the artifact is damaged; restore it")
        _, chunk, prefix = HEADER.unpack(header)
        if not 0 < chunk <= MAX_CHUNK:
            raise StageError(f"{src.name} has a damaged header (chunk size {chunk})", "restore the artifact")
        size = os.fstat(fin.fileno()).st_size
        inbuf, outbuf = bytearray(chunk + TAG), bytearray(chunk)
        inview, outview = memoryview(inbuf), memoryview(outbuf)
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            index, pos = 0, HEADER.size
            while True:
                n = fin.readinto(inbuf) or 0
                while 0 < n < len(inbuf):  # a short read before the end of the file: read on
                    more = fin.readinto(inview[n:]) or 0
                    if not more:
                        break
                    n += more
                pos += n
                last = pos >= size
                try:
                    if n < TAG:
                        raise InvalidTag
                    aes.decrypt_into(prefix + struct.pack(">I", index), inview[:n],
                                     _aad(header, context, index, last), outview[:n - TAG])
                except InvalidTag:
                    raise StageError(f"{src.name} failed authentication at chunk {index}: corrupted, truncated "
                                     "or encrypted with another key", "restore the artifact from a backup") from None
                done = 0
                while done < n - TAG:
                    done += os.write(fd, outview[done:n - TAG])
                if last:
                    return
                index += 1
        finally:
            os.close(fd)
