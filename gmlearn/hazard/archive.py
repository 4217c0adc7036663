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
extracted (counted while extracting, not only from the headers), and the
extracted folder is then loaded like any model folder (schema and SHA-256
checks of :mod:`gmlearn.gmpe.persistence`).
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

__all__ = ["data_dir", "pack_model", "unpack_model", "check_archive", "MAX_MEMBERS", "MAX_UNPACKED_BYTES"]

#: Most entries a model archive may hold.
MAX_MEMBERS = 256
#: Most bytes a model archive may extract to (all entries together).
MAX_UNPACKED_BYTES = 2 * 2**30


def data_dir() -> Path:
    """gmlearn's hazard data folder: ``$GMLEARN_DATA_DIR/hazard`` or ``~/.gmlearn/hazard``.

    It holds the local sqlite job database, the calculation datastores
    (``calc_<id>.hdf5``) and unpacked model archives. Nothing is created here
    until a job runs.
    """
    root = os.environ.get("GMLEARN_DATA_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".gmlearn") / "hazard"


def pack_model(folder: str | os.PathLike[str], archive: str | os.PathLike[str] | None = None) -> Path:
    """Zip a saved model folder into one file for ``model_file`` in a logic tree.

    Parameters
    ----------
    folder
        A folder written by :func:`gmlearn.gmpe.persistence.save_model`.
    archive
        Output path (default: ``<folder>.zip`` beside the folder).

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
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(p for p in folder.iterdir() if p.is_file()):
                info = zipfile.ZipInfo(file.name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, file.read_bytes())
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return archive


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
        total += max(int(info.file_size), 0)
        if total > max_bytes:
            raise _archive_error(archive, f"would extract to more than {max_bytes} bytes (a size bomb?)")
    if "metadata.json" not in seen:
        raise _archive_error(archive, f"must hold metadata.json and the model files at its top level (found {sorted(seen)[:6]})")
    return infos


def _extract(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], folder: Path, archive: Path, max_bytes: int) -> None:
    """Copy the checked entries into ``folder``, counting the bytes actually written."""
    written = 0
    for info in infos:
        with zf.open(info) as src, open(folder / info.filename, "xb") as dst:
            for block in iter(lambda: src.read(2**20), b""):  # noqa: B023 - consumed within the iteration
                written += len(block)
                if written > max_bytes:
                    raise _archive_error(archive, f"extracts to more than {max_bytes} bytes (a size bomb?)")
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
    return target
