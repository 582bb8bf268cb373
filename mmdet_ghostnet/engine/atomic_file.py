"""Writing a file so that readers see either the old one or the complete new one, never a partial write."""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union


@contextmanager
def atomic_write_path(path: Union[str, Path]) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; renamed over ``path`` when the block succeeds, removed
    when it fails (e.g. an interrupted ``torch.save``), so that ``path`` never holds half a file. The new file gets
    the old one's permissions, or those of a file created with ``open`` (not ``mkstemp``'s owner-only 0600)."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.partial', dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp_name)
        os.chmod(tmp_name, path.stat().st_mode if path.exists() else 0o666 & ~_current_umask())
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _current_umask() -> int:
    """The process's umask (reading it means setting it: it is set back at once)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
