"""`luban security new-key|rotate|encrypt`, and `luban data encrypt` / `luban models encrypt`."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from luban.cli.context import console, state
from luban.core.errors import UsageError

app = typer.Typer(help="Encryption at rest: master keys, encrypting artifacts, key rotation.", no_args_is_help=True)


def encrypt_ref(ref: str, kind: str | None, keep_plaintext: bool) -> None:
    from luban.security.artifacts import encrypt_artifact
    from luban.security.masterkey import from_env

    ws = state.workspace()
    art = ws.locate(ref)
    if kind is not None and art.kind != kind:
        raise UsageError(f"'{ref}' is a {art.kind} artifact, not a {kind}", f"use `luban security encrypt {ref}`")
    mk = from_env()
    assert mk is not None
    with console.status(f"encrypting {ref}"):
        enc = encrypt_artifact(ws, ref, mk, keep_plaintext=keep_plaintext)
    gone = "kept" if keep_plaintext else "removed"
    console.print(f"[green]✓[/green] {ref} encrypted as {enc.short_id} (master key {mk.id}); plaintext {art.short_id} {gone}")


KEEP = typer.Option(False, "--keep-plaintext", help="keep the plaintext artifact too")


@app.command("encrypt")
def encrypt(ref: str = typer.Argument(..., help="artifact name or id"), keep_plaintext: bool = KEEP) -> None:
    """Encrypt any artifact with AES-256-GCM under a fresh data key wrapped by the master key.

    Example: LUBAN_MASTER_KEY_FILE=/etc/luban/master.key luban security encrypt acme-corpus
    """
    encrypt_ref(ref, None, keep_plaintext)


def encrypt_dataset(ref: str = typer.Argument(..., help="dataset name or id"), keep_plaintext: bool = KEEP) -> None:
    """Encrypt a dataset artifact at rest; training and evaluation still read it (the master key must be set).

    Example: luban data encrypt acme-corpus
    """
    encrypt_ref(ref, "dataset", keep_plaintext)


def encrypt_model(ref: str = typer.Argument(..., help="model name or id"), keep_plaintext: bool = KEEP) -> None:
    """Encrypt a model artifact at rest; `luban serve` and training still read it (the master key must be set).

    Example: luban models encrypt acme-chat
    """
    encrypt_ref(ref, "model", keep_plaintext)


@app.command("new-key")
def new_key(out: Path = typer.Option(None, "--out", "-o", help="write it to this file (mode 0600) instead of printing")) -> None:
    """Make a random 256-bit master key (base64).

    Example: luban security new-key --out /etc/luban/master.key
    """
    from luban.security.masterkey import new_key_text

    text = new_key_text()
    if out is None:
        console.print(text)
        return
    if out.exists():
        raise UsageError(f"{out} exists", "choose a new file: overwriting a master key loses the data it protects")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    console.print(f"master key written to {out}; set LUBAN_MASTER_KEY_FILE={out}")


@app.command("rotate")
def rotate_cmd(new_key_file: Path = typer.Option(..., "--new-key-file", help="file with the new master key")) -> None:
    """Re-wrap every data key of the workspace's keyring with a new master key; no data is re-encrypted.

    The current key comes from LUBAN_MASTER_KEY / _FILE / _COMMAND. Afterwards, point those at the new key.

    Example: luban security rotate --new-key-file /etc/luban/master-2027.key
    """
    from luban.security.artifacts import rotate
    from luban.security.masterkey import from_env, parse

    if not new_key_file.is_file():
        raise UsageError(f"{new_key_file} does not exist", "make one with `luban security new-key --out FILE`")
    old = from_env()
    assert old is not None
    new = parse(new_key_file.read_text(), str(new_key_file))
    n = rotate(state.workspace(), old, new)
    console.print(f"[green]✓[/green] {n} data keys re-wrapped from master key {old.id} to {new.id}")
