"""atomic_write_path: the target holds the old or the complete new content, and no temporary file is left."""
import os
import stat

import pytest

from mmdet_ghostnet.engine.atomic_file import atomic_write_path


def test_a_finished_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / 'weights.pth'
    target.write_text('old')
    with atomic_write_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text('new')
        assert target.read_text() == 'old'  # not visible before the block ends
    assert target.read_text() == 'new'
    assert [path.name for path in tmp_path.iterdir()] == ['weights.pth']


def test_a_failed_write_keeps_the_old_file_and_removes_the_partial_one(tmp_path):
    target = tmp_path / 'weights.pth'
    target.write_text('old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write_path(target) as tmp:
            tmp.write_text('half')
            raise KeyboardInterrupt
    assert target.read_text() == 'old'
    assert [path.name for path in tmp_path.iterdir()] == ['weights.pth']


def test_a_failed_first_write_creates_no_file(tmp_path):
    with pytest.raises(OSError):
        with atomic_write_path(tmp_path / 'new.json') as tmp:
            raise OSError(f'disk full while writing {tmp}')
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_gets_the_permissions_of_open_and_a_replaced_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        reference = tmp_path / 'reference.txt'
        reference.write_text('made by open')
        with atomic_write_path(tmp_path / 'new.pth') as tmp:
            tmp.write_text('new')
        assert stat.S_IMODE((tmp_path / 'new.pth').stat().st_mode) == stat.S_IMODE(reference.stat().st_mode) == 0o644
        (tmp_path / 'new.pth').chmod(0o640)
        with atomic_write_path(tmp_path / 'new.pth') as tmp:
            tmp.write_text('newer')
        assert stat.S_IMODE((tmp_path / 'new.pth').stat().st_mode) == 0o640
    finally:
        os.umask(umask)
