"""atomic_write_path: the target holds the old or the complete new content, and no temporary file is left."""
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
