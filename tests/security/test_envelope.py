"""Chunked AES-256-GCM files: round trips at every boundary; tampering, truncation, renaming and a wrong
key are each refused with a one-line error."""

from __future__ import annotations

import os
import secrets

import pytest

from luban.core.errors import StageError
from luban.security.envelope import HEADER, TAG, decrypt_file, encrypt_file

CHUNK = 64


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_round_trip_at_every_chunk_boundary(tmp_path, size):
    data = os.urandom(size)
    src, enc, out = tmp_path / "a", tmp_path / "a.lbenc", tmp_path / "a.out"
    src.write_bytes(data)
    dek = secrets.token_bytes(32)
    encrypt_file(src, enc, dek, context=b"a", chunk=CHUNK)
    if size >= 16:  # shorter plaintexts can turn up in random ciphertext bytes by chance
        assert data not in enc.read_bytes()
    decrypt_file(enc, out, dek, context=b"a")
    assert out.read_bytes() == data


@pytest.fixture()
def encrypted(tmp_path):
    src, enc = tmp_path / "train.parquet", tmp_path / "train.parquet.lbenc"
    src.write_bytes(b"customer 13812345678 " * 40)  # 840 bytes: 14 chunks
    dek = secrets.token_bytes(32)
    encrypt_file(src, enc, dek, context=b"train.parquet", chunk=CHUNK)
    return enc, dek


def test_a_flipped_byte_names_its_chunk(encrypted, tmp_path):
    enc, dek = encrypted
    raw = bytearray(enc.read_bytes())
    raw[HEADER.size + 2 * (CHUNK + TAG) + 5] ^= 1
    enc.write_bytes(bytes(raw))
    with pytest.raises(StageError, match="failed authentication at chunk 2"):
        decrypt_file(enc, tmp_path / "out", dek, context=b"train.parquet")


def test_a_file_cut_at_a_chunk_boundary_is_caught(encrypted, tmp_path):
    enc, dek = encrypted
    enc.write_bytes(enc.read_bytes()[: HEADER.size + 5 * (CHUNK + TAG)])
    with pytest.raises(StageError, match="failed authentication at chunk 4"):
        decrypt_file(enc, tmp_path / "out", dek, context=b"train.parquet")


def test_a_renamed_file_does_not_decrypt(encrypted, tmp_path):
    enc, dek = encrypted
    with pytest.raises(StageError, match="failed authentication at chunk 0"):
        decrypt_file(enc, tmp_path / "out", dek, context=b"test.parquet")


def test_the_wrong_data_key_does_not_decrypt(encrypted, tmp_path):
    enc, _ = encrypted
    with pytest.raises(StageError, match="encrypted with another key"):
        decrypt_file(enc, tmp_path / "out", secrets.token_bytes(32), context=b"train.parquet")


def test_a_file_that_is_not_encrypted_is_named(tmp_path):
    plain = tmp_path / "x.lbenc"
    plain.write_bytes(b"PAR1" + b"\0" * 40)
    with pytest.raises(StageError, match="x.lbenc is not a Luban-encrypted file"):
        decrypt_file(plain, tmp_path / "out", secrets.token_bytes(32))


@pytest.mark.parametrize("chunk", [0, (64 << 20) + 1, 0xFFFFFFFF])
def test_a_damaged_chunk_size_is_refused_before_any_allocation(encrypted, tmp_path, chunk):
    enc, dek = encrypted
    data = bytearray(enc.read_bytes())
    data[6:10] = chunk.to_bytes(4, "big")
    bad = tmp_path / "bad.lbenc"
    bad.write_bytes(bytes(data))
    with pytest.raises(StageError, match=rf"damaged header \(chunk size {chunk}\)"):
        decrypt_file(bad, tmp_path / "out", dek, context=b"train.parquet")
