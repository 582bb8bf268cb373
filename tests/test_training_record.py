"""The study's training record (time and scalars) of a run stopped and resumed, on hand-written MMEngine logs."""
import json
import subprocess
import sys

import pytest

from mmdet_ghostnet.engine.training_record import assemble
from tool_runs import REPO


def write_start(work_dir, stamp: str, lines: list, records: list) -> None:
    """One MMEngine run folder: ``lines`` as (HH:MM:SS, message) on 2026/01/01, ``records`` as scalars.json."""
    folder = work_dir / stamp
    (folder / 'vis_data').mkdir(parents=True)
    (folder / f'{stamp}.log').write_text(''.join(
        f'2026/01/01 {time} - mmengine - INFO - {message}\n' + ('  continued line without a stamp\n' if i == 0 else '')
        for i, (time, message) in enumerate(lines)))
    (folder / 'vis_data' / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def epochs(first: int, last: int, val_every: int = 3) -> list:
    """Scalars of epochs first..last: one training record each, a val record every ``val_every`` epochs."""
    records = []
    for epoch in range(first, last + 1):
        records.append(dict(epoch=epoch, iter=10 * epoch, step=10 * epoch, loss=1.0 / epoch))
        if epoch % val_every == 0:
            records.append({'coco/bbox_mAP': epoch / 100, 'step': epoch})
    return records


@pytest.fixture
def stopped_and_resumed(tmp_path):
    """Stopped in epoch 4 (checkpoint at 3), a start killed while starting, then resumed from epoch 3 to 6."""
    write_start(tmp_path, '20260101_100000', [
        ('10:00:00', 'System environment'), ('10:05:00', 'Epoch(train)  [1][10/10]'),
        ('10:20:00', 'Saving checkpoint at 3 epochs'), ('10:20:30', 'Epoch(val) [3][5/5]    coco/bbox_mAP: 0.0300'),
        ('10:25:00', 'Epoch(train)  [4][10/10]'), ('10:27:00', 'Epoch(train)  [5][10/10]')], epochs(1, 5))
    write_start(tmp_path, '20260101_110000', [('11:00:00', 'System environment')], [])
    write_start(tmp_path, '20260101_120000', [
        ('12:00:00', 'System environment'), ('12:00:10', 'resumed epoch: 3, iter: 30'),
        ('12:05:00', 'Epoch(train)  [4][10/10]'), ('12:30:00', 'Epoch(val) [6][5/5]    coco/bbox_mAP: 0.0600')],
        epochs(4, 6))
    (tmp_path / 'test' / '20260101_130000').mkdir(parents=True)  # tools/test.py's folder is not a start
    return tmp_path


def test_resumed_run_counts_the_work_kept_once(stopped_and_resumed):
    record = assemble(stopped_and_resumed)
    assert record.train_wall_s == (20 * 60 + 30) + 30 * 60  # 10:00:00-10:20:30, then 12:00:00-12:30:00
    assert record.starts == 2
    assert record.records == epochs(1, 6)
    assert record.log.count('System environment') == 2 and '[5][10/10]' in record.log


def test_a_start_that_resumed_nothing_discards_the_starts_before_it(stopped_and_resumed):
    write_start(stopped_and_resumed, '20260101_140000', [
        ('14:00:00', 'Auto resumed from the latest checkpoint None.'), ('14:10:00', 'Epoch(train)  [1][10/10]')],
        epochs(1, 1))
    record = assemble(stopped_and_resumed)
    assert (record.train_wall_s, record.starts, record.records) == (600, 1, epochs(1, 1))


def test_cli_writes_log_and_scalars_and_prints_time_and_starts(stopped_and_resumed, tmp_path_factory):
    out = tmp_path_factory.mktemp('results')
    printed = subprocess.run([sys.executable, '-m', 'mmdet_ghostnet.engine.training_record', str(stopped_and_resumed),
                              '--out', str(out)], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert printed.split() == ['3030', '2']
    assert [json.loads(line) for line in (out / 'scalars.json').read_text().splitlines()] == epochs(1, 6)
    assert (out / 'train.log').read_text().count('System environment') == 2


def test_work_dir_without_a_training_start_is_refused_by_name(tmp_path):
    write_start(tmp_path, '20260101_110000', [('11:00:00', 'System environment')], [])
    with pytest.raises(FileNotFoundError, match='work_dir=.*no MMEngine run folder'):
        assemble(tmp_path)
