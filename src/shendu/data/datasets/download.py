"""Cache folders and verified downloads for data set files.

Files live in `<data dir>/<name>/`, where the data dir is `--data-dir DIR` / `data_dir=` (the same thing),
else `$SHENDU_DATA`, else `~/.cache/shendu`. A download goes to a temporary file in the same folder, its SHA-256
is checked against the official one (a mismatch is an error), and only then is it moved into place with
`os.replace` (atomic), so the cache never holds a partial or unverified download. Files that were already there
(your own copies) may have another checksum: that is a `ChecksumWarning`, and the loaders check their format
(IDX magic and shapes, CIFAR-10 record size) when they read them.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["data_home", "sha256_file", "download_file", "fetch_files", "ChecksumError", "ChecksumWarning",
           "DatasetNotFoundError"]

ENV_VAR = "SHENDU_DATA"
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's SHA-256 digest differs from the known one."""


class ChecksumWarning(UserWarning):
    """A local data file (not downloaded by shendu) differs from the official one; it is used if well-formed."""


class DatasetNotFoundError(FileNotFoundError):
    """Data set files are missing and could not be downloaded."""


def data_home(name: str, root=None, data_dir=None) -> Path:
    """Folder holding data set `name`: `root` (the folder itself) if given, else `<data_dir>/<name>`, where
    `data_dir` defaults to `$SHENDU_DATA`, then `~/.cache/shendu` (`--data-dir DIR` is `data_dir`)."""
    if root is not None:
        return Path(root).expanduser()
    base = os.fspath(data_dir) if data_dir is not None else os.environ.get(ENV_VAR)
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "shendu") / name


def sha256_file(path) -> str:
    """Hex SHA-256 digest of the file at `path`."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download_file(url: str, dest, sha256: str | None, timeout: float = 30.0) -> Path:
    """Download `url` to `dest` via a temp file in the same folder; verify SHA-256; `os.replace` into place.

    Raises ChecksumError (and leaves nothing behind) if the digest differs from `sha256`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
            out.flush()
            from ...serialization import _chmod_as_umask

            _chmod_as_umask(out.fileno())  # mkstemp makes 0600: give the data file the usual 0o666 & ~umask
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256.lower():
            raise ChecksumError(f"download of {url} has SHA-256 {digest}, expected {sha256.lower()}; "
                                f"the file was discarded and {dest} was not written")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return dest


def fetch_files(name: str, files: dict, mirrors, root=None, download=True, verify=True,
                timeout: float = 30.0, data_dir=None) -> dict:
    """Return {filename: Path} for `files` ({filename: sha256}) in the folder of data set `name` (`data_home`).

    Missing files are downloaded from `mirrors` (base URLs, tried in order) when `download` is true; a download
    whose SHA-256 differs from the official one is discarded with a ChecksumError (unless verify=False).
    Files already present are used whatever their checksum: with `verify`, another checksum than the official
    one gives a ChecksumWarning (your own copy; the loader checks its format).
    Raises DatasetNotFoundError naming every missing file, the folder and the URLs.
    """
    import warnings

    folder = data_home(name, root, data_dir)
    paths = {fname: folder / fname for fname in files}
    failures: dict[str, list[str]] = {}
    unreachable: set[str] = set()  # mirrors that refused or timed out: not retried for the other files
    own: list[str] = []  # local files with another checksum than the official one
    for fname, path in paths.items():
        expected = files[fname]
        if path.is_file():
            if verify and expected is not None and sha256_file(path) != expected.lower():
                own.append(fname)
            continue
        if not download:
            continue
        for base in mirrors:
            url = base if base.endswith(fname) else base.rstrip("/") + "/" + fname
            if base in unreachable:
                failures.setdefault(fname, []).append(f"{url}: skipped, server unreachable")
                continue
            try:
                download_file(url, path, expected if verify else None, timeout=timeout)
                break
            except ChecksumError as exc:
                failures.setdefault(fname, []).append(str(exc))
            except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
                failures.setdefault(fname, []).append(f"{url}: {exc}")
                if not isinstance(exc, urllib.error.HTTPError):
                    unreachable.add(base)
    if own:
        are, them = ("is not the official file", "it") if len(own) == 1 else ("are not the official files", "them")
        warnings.warn(f"data set '{name}': {', '.join(own)} in {folder} {are} (SHA-256 differs); using {them} as "
                      "your own: the format is checked when read", ChecksumWarning, stacklevel=3)
    missing = [f for f, p in paths.items() if not p.is_file()]
    if missing:
        lines = [f"data set '{name}': missing file(s) in {folder}:"]
        for fname in missing:
            urls = [b if b.endswith(fname) else b.rstrip("/") + "/" + fname for b in mirrors]
            lines.append(f"  {folder / fname}  (get it from {' or '.join(urls)})")
            for err in failures.get(fname, []):
                lines.append(f"    download failed: {err}")
        if not download:
            lines.append("download=False: put the files there yourself, or pass download=True")
        lines.append(f"(pass --data-dir DIR / data_dir=DIR or set ${ENV_VAR}=DIR to read DIR/{name}/, "
                     "or root= for the folder itself)")
        message = "\n".join(lines)
        if any("SHA-256" in e for f in missing for e in failures.get(f, [])):
            raise ChecksumError(message)
        raise DatasetNotFoundError(message)
    return paths
