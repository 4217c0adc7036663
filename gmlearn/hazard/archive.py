"""One-file model archives for OpenQuake logic trees, and gmlearn's hazard data folder.

OpenQuake treats every GSIM argument ending in ``_file`` as one input file: it
checksums it, copies it into the calculation's datastore and uses its base name
in the GSIM's identity. A model *folder* fits none of that, so a logic tree
names either the folder's ``metadata.json`` (which lists the SHA-256 of every
weight file) or a ``.zip`` archive of the folder written by :func:`pack_model`.
Archives are self-contained (the datastore keeps the whole model) and their
base names tell models apart, so use them when one branch set holds several
gmlearn models.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from gmlearn.exceptions import ModelError

__all__ = ["data_dir", "pack_model", "unpack_model"]


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


def unpack_model(archive: str | os.PathLike[str], cache: Path | None = None) -> Path:
    """Extract a model archive once (keyed by its SHA-256) and return the folder.

    Raises
    ------
    ModelError
        If the file is not a zip archive or holds no ``metadata.json`` at its top level.
    """
    archive = Path(archive)
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:20]
    target = (cache or data_dir() / "models") / f"{archive.stem}-{digest}"
    if (target / "metadata.json").is_file():
        return target
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        msg = f"GMLearnGSIM: model_file {str(archive)!r} is not a zip archive ({exc}); make one with gmlearn.hazard.pack_model(folder)."
        raise ModelError(msg) from exc
    with zf:
        names = zf.namelist()
        bad = [n for n in names if Path(n).name != n]
        if "metadata.json" not in names or bad:
            msg = (f"GMLearnGSIM: archive {str(archive)!r} must hold metadata.json and the model files at its top level "
                   f"(found {names[:6]}); make it with gmlearn.hazard.pack_model(folder).")
            raise ModelError(msg)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            zf.extractall(tmp)
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (target / "metadata.json").is_file():  # another process did not win the race
                raise
    return target
