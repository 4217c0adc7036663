"""One-file model archives for OpenQuake logic trees, and gmlearn's hazard data folder.

OpenQuake treats every GSIM argument ending in ``_file`` as one input file: it
checksums it, copies it into the calculation's datastore and uses its base name
in the GSIM's identity. A model *folder* fits none of that, so a logic tree
names either the folder's ``metadata.json`` (which lists the SHA-256 of every
weight file) or a ``.zip`` archive of the folder written by :func:`pack_model`.
Archives are self-contained (the datastore keeps the whole model) and their
base names tell models apart, so use them when one branch set holds several
gmlearn models.

Archives may come from elsewhere, so :func:`unpack_model` trusts nothing in
them: every entry must be a regular file at the top level (no ``../``, no
absolute path, no folder, no symlink, no duplicate), there are at most
:data:`MAX_MEMBERS` entries and :data:`MAX_UNPACKED_BYTES` bytes once
extracted (counted while extracting, not only from the headers), no entry
larger than 1 MiB may expand more than :data:`MAX_RATIO` times (a zip bomb of
1.7 MB declaring 1.5 GiB is refused before anything is written), and the
extracted folder is then loaded like any model folder (schema, manifest hash,
signature and SHA-256 checks of :mod:`gmlearn.gmpe.persistence`).

Extracted archives are cached; the cache is capped at :data:`MAX_CACHE_BYTES`
(``$GMLEARN_MODEL_CACHE_BYTES``), and the least recently used models are
evicted once it grows past the cap (:func:`prune_cache`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from gmlearn.exceptions import ModelError

__all__ = ["data_dir", "pack_model", "unpack_model", "check_archive", "prune_cache", "MAX_MEMBERS", "MAX_UNPACKED_BYTES",
           "MAX_RATIO", "MAX_CACHE_BYTES"]

#: Most entries a model archive may hold.
MAX_MEMBERS = 256
#: Most bytes a model archive may extract to (all entries together).
MAX_UNPACKED_BYTES = 2 * 2**30
#: Largest expansion (uncompressed / compressed size) of an entry over 1 MiB; model files compress 2-10 times.
MAX_RATIO = 100
_RATIO_FLOOR = 2**20
#: Default cap of the extracted-model cache (bytes); ``$GMLEARN_MODEL_CACHE_BYTES`` overrides it.
MAX_CACHE_BYTES = 4 * 2**30


def data_dir() -> Path:
    """gmlearn's hazard data folder: ``$GMLEARN_DATA_DIR/hazard`` or ``~/.gmlearn/hazard``.

    It holds the local sqlite job database, the calculation datastores
    (``calc_<id>.hdf5``) and unpacked model archives. Nothing is created here
    until a job runs.
    """
    root = os.environ.get("GMLEARN_DATA_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".gmlearn") / "hazard"


def pack_model(folder: str | os.PathLike[str], archive: str | os.PathLike[str] | None = None, *,
               key: str | bytes | None = None) -> Path:
    """Zip a saved model folder into one file for ``model_file`` in a logic tree.

    Parameters
    ----------
    folder
        A folder written by :func:`gmlearn.gmpe.persistence.save_model`.
    archive
        Output path (default: ``<folder>.zip`` beside the folder).
    key
        Sign the archived metadata with this HMAC key (at least 16 bytes;
        default ``$GMLEARN_MODEL_KEY``, none if unset); the folder itself is
        not changed. Load such a model with the same key set.

    Returns
    -------
    pathlib.Path
        The archive. Entries are stored in sorted order with fixed timestamps,
        so packing the same model twice gives the same bytes.
    """
    folder = Path(folder)
    if not (folder / "metadata.json").is_file():
        msg = f"{str(folder)!r} is not a gmlearn model folder (no metadata.json); save the model with save_model first."
        raise ModelError(msg)
    archive = Path(archive) if archive is not None else folder.with_name(folder.name + ".zip")
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".tmp", dir=archive.parent)
    os.close(fd)
    links = [p.name for p in folder.iterdir() if p.is_symlink()]
    if links:
        os.unlink(tmp)
        msg = f"{str(folder)!r} holds symlinks {links}; a model folder to pack must hold regular files only."
        raise ModelError(msg)
    try:
        metadata = _signed_metadata(folder, key)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(p for p in folder.iterdir() if p.is_file()):
                info = zipfile.ZipInfo(file.name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, metadata if file.name == "metadata.json" and metadata is not None else file.read_bytes())
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return archive


def _signed_metadata(folder: Path, key: str | bytes | None) -> bytes | None:
    """The folder's metadata.json signed with ``key`` (None when no key is set)."""
    import json

    from gmlearn.gmpe.integrity import check_digest, model_key, stamp

    raw = model_key(key)
    if raw is None:
        return None
    meta = json.loads((folder / "metadata.json").read_bytes())
    check_digest(meta, folder / "metadata.json")
    return (json.dumps(stamp(meta, raw), indent=2, sort_keys=True) + "\n").encode()


def _archive_error(archive: Path, problem: str) -> ModelError:
    return ModelError(f"GMLearnGSIM: archive {str(archive)!r} {problem}; make archives with gmlearn.hazard.pack_model(folder).")


def check_archive(zf: zipfile.ZipFile, archive: Path, *, max_members: int = MAX_MEMBERS,
                  max_bytes: int = MAX_UNPACKED_BYTES) -> list[zipfile.ZipInfo]:
    """The entries of a model archive, after checking each one; raise on anything unsafe.

    Raises
    ------
    ModelError
        For more than ``max_members`` entries, declared sizes above
        ``max_bytes`` in all, an entry that is a path (``../``, absolute,
        nested, backslashes), a folder, a symlink or another special file, a
        duplicate name, or no ``metadata.json``.
    """
    infos = zf.infolist()
    if len(infos) > max_members:
        raise _archive_error(archive, f"holds {len(infos)} entries, more than the {max_members} allowed")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not name or name in (".", "..") or Path(name).name != name or "\\" in name or name.startswith("/"):
            raise _archive_error(archive, f"has an entry {name!r} outside its top level (path traversal is refused)")
        mode = info.external_attr >> 16
        kind_bits = stat.S_IFMT(mode)  # 0: written without a file type (plain file)
        if info.is_dir() or (kind_bits and kind_bits != stat.S_IFREG):
            kind = "a symlink" if stat.S_ISLNK(mode) else "a folder or special file"
            raise _archive_error(archive, f"has an entry {name!r} that is {kind}; only regular files are allowed")
        if name in seen:
            raise _archive_error(archive, f"has the entry {name!r} twice")
        seen.add(name)
        size, packed = max(int(info.file_size), 0), max(int(info.compress_size), 0)
        if size > _RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
            raise _archive_error(archive, f"has an entry {name!r} expanding {size / max(packed, 1):.0f} times "
                                          f"({packed} -> {size} bytes), more than the {MAX_RATIO} allowed (a zip bomb?)")
        total += size
        if total > max_bytes:
            raise _archive_error(archive, f"would extract to more than {max_bytes} bytes (a size bomb?)")
    if "metadata.json" not in seen:
        raise _archive_error(archive, f"must hold metadata.json and the model files at its top level (found {sorted(seen)[:6]})")
    return infos


def _extract(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], folder: Path, archive: Path, max_bytes: int) -> None:
    """Copy the checked entries into ``folder``, counting the bytes actually written."""
    written = 0
    for info in infos:
        entry = 0
        limit = max(int(info.file_size), 0)
        with zf.open(info) as src, open(folder / info.filename, "xb") as dst:
            for block in iter(lambda: src.read(2**20), b""):  # noqa: B023 - consumed within the iteration
                written += len(block)
                entry += len(block)
                if written > max_bytes:
                    raise _archive_error(archive, f"extracts to more than {max_bytes} bytes (a size bomb?)")
                if entry > limit:
                    raise _archive_error(archive, f"entry {info.filename!r} extracts to more than its declared {limit} bytes")
                dst.write(block)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def unpack_model(archive: str | os.PathLike[str], cache: Path | None = None, *, max_members: int = MAX_MEMBERS,
                 max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
    """Extract a model archive once (keyed by its SHA-256) and return the folder.

    Parameters
    ----------
    archive
        A ``.zip`` from :func:`pack_model`, possibly from elsewhere.
    cache
        Folder of extracted archives (default: :func:`data_dir` ``/models``).
    max_members, max_bytes
        Limits on the number of entries and on the extracted bytes.

    Raises
    ------
    ModelError
        If the file is not a zip archive, breaks a check of :func:`check_archive`,
        or extracts to more than ``max_bytes``.
    """
    archive = Path(archive)
    digest = _digest(archive)[:20]
    target = (cache or data_dir() / "models") / f"{archive.stem}-{digest}"
    if (target / "metadata.json").is_file():
        os.utime(target)  # most recently used
        return target
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"GMLearnGSIM: model_file {str(archive)!r} is not a zip archive ({exc}); make one with gmlearn.hazard.pack_model(folder)."
        raise ModelError(msg) from exc
    with zf:
        infos = check_archive(zf, archive, max_members=max_members, max_bytes=max_bytes)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _extract(zf, infos, tmp, archive, max_bytes)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:  # corrupt entry data
            shutil.rmtree(tmp, ignore_errors=True)
            raise _archive_error(archive, f"is corrupt ({exc})") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (target / "metadata.json").is_file():  # another process did not win the race
                raise
    prune_cache(target.parent, keep=target)
    return target


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and not p.is_symlink())


def prune_cache(cache: Path | None = None, *, max_bytes: int | None = None, keep: Path | None = None) -> list[Path]:
    """Evict the least recently used extracted models until the cache holds at most ``max_bytes``.

    Parameters
    ----------
    cache
        Folder of extracted archives (default: :func:`data_dir` ``/models``).
    max_bytes
        Cap (default ``$GMLEARN_MODEL_CACHE_BYTES`` or :data:`MAX_CACHE_BYTES`).
    keep
        A folder never evicted (the model just extracted).

    Returns
    -------
    list of pathlib.Path
        The folders removed. Leftover temporary folders (``.name.*``) older
        than an hour are removed too.
    """
    import time

    cache = Path(cache) if cache is not None else data_dir() / "models"
    if max_bytes is None:
        env = os.environ.get("GMLEARN_MODEL_CACHE_BYTES", "")
        max_bytes = int(env) if env.isdigit() else MAX_CACHE_BYTES
    if not cache.is_dir():
        return []
    removed: list[Path] = []
    now = time.time()
    entries = []
    for sub in cache.iterdir():
        if sub.is_symlink() or not sub.is_dir():
            continue
        if sub.name.startswith("."):
            if now - sub.stat().st_mtime > 3600:
                shutil.rmtree(sub, ignore_errors=True)
                removed.append(sub)
            continue
        entries.append((sub.stat().st_mtime, sub, _folder_bytes(sub)))
    total = sum(e[2] for e in entries)
    for _, sub, size in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        if keep is not None and sub.resolve() == Path(keep).resolve():
            continue
        shutil.rmtree(sub, ignore_errors=True)
        removed.append(sub)
        total -= size
    return removed
