"""Files are never lost: outputs are checked before any work and written atomically.

Every function of crm_models that writes a file (the command line, ``save``, reports, the
simulated company) follows three rules:

1. **check first**: every output location is checked before the work starts (its folder exists
   and is writable, it is not a folder, not one of the inputs, not named twice), so a long run
   never fails at the end for a typo in a path;
2. **never overwrite** an existing file unless asked (``overwrite=True``, ``--overwrite``), and
   never the input, even when asked;
3. **write atomically**: into a temporary file in the same folder, renamed over the target
   (``os.replace``) only once complete, so an interrupted run leaves the old file or the new
   one, never half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

__all__ = ["check_output", "check_outputs", "atomic_path", "write_atomic", "write_text_atomic"]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(path, *, overwrite: bool = False, inputs: Iterable = (), what: str = "output") -> Path:
    """``path`` as a Path if a file may be written there, else an ``OSError`` saying why.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    overwrite : bool
        Allow replacing an existing file (never an input).
    inputs : iterable of paths
        Files the run reads: writing over one of them is always refused.
    what : str
        What the file is, for messages (``"scores"``, ``"report"``).

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    FileNotFoundError
        The folder does not exist.
    IsADirectoryError
        The path is a folder.
    PermissionError
        The folder is not writable.
    FileExistsError
        The file exists (and ``overwrite`` is false) or is one of the inputs.
    """
    p = Path(path)
    for source in inputs:
        if source is not None and _same_file(p, Path(source)):
            raise FileExistsError(f"refusing to write the {what} over the input file {p}: choose another name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write the {what} {p}: folder {folder} does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"cannot write the {what} {p}: it is a folder; give a file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the {what} {p}: folder {folder} is not writable")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass overwrite=True (--overwrite on the command line) to replace it")
    return p


def check_outputs(outputs: dict, *, overwrite: bool = False, inputs: Iterable = ()) -> dict:
    """:func:`check_output` on every ``{what: path}`` (None skipped), and no path named twice.

    Returns
    -------
    dict
        ``{what: pathlib.Path}`` for the paths given.
    """
    inputs = [i for i in inputs if i is not None]
    out: dict = {}
    for what, path in outputs.items():
        if path is None:
            continue
        p = check_output(path, overwrite=overwrite, inputs=inputs, what=what)
        for other, q in out.items():
            if _same_file(p, q):
                raise FileExistsError(f"the {other} and the {what} would both be written to {p}: give two names")
        out[what] = p
    return out


def _file_mode(path: Path) -> int:
    """The permission bits a plain ``open(path, "w")`` would give: the existing file's, or 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def atomic_path(path):
    """A temporary path in ``path``'s folder, renamed to ``path`` when the block ends without error.

    If the block raises (or the process is interrupted), the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, _file_mode(path))  # mkstemp makes private files; keep what a plain write would give
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary_path)`` and rename the result to ``path`` (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
