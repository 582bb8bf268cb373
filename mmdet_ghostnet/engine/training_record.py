"""One training run's record, assembled from the MMEngine runs of its work dir, resumed runs included.

MMEngine writes one ``<work_dir>/<YYYYMMDD_HHMMSS>/`` folder per start of ``tools/train.py`` (its ``.log`` and
``vis_data/scalars.json``). A run killed and restarted with ``--resume`` leaves several; the work done after the
checkpoint it resumed from is done again by the next start. The record keeps what the final weights came from:

* ``train_wall_s``: the sum over starts of the time from the first log line to the last one that belongs to the
  epochs kept (up to the line before the next epoch's first training line; the whole log for the last start);
* ``records``: the scalars of the kept epochs, in order (a resumed run repeats no epoch);
* ``log``: the full log of every start kept, in order (what was done again is visible there).

A start that logged no training and no resumption (killed while starting) did no work and is left out; one that
resumed from no checkpoint (``Auto resumed from the latest checkpoint None``) began afresh: the starts before it are
not part of the record.

    python -m mmdet_ghostnet.engine.training_record WORK_DIR --out RESULTS_DIR
        # writes RESULTS_DIR/train.log and RESULTS_DIR/scalars.json, prints '<train_wall_s> <starts>'
"""
import argparse
import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

RUN_FOLDER = re.compile(r'^\d{8}_\d{6}$')
TIMESTAMP = re.compile(r'^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) - ')
RESUMED = re.compile(r'resumed epoch: (\d+), iter: \d+')


@dataclass
class Start:
    """One start of ``train.py``: its log lines, scalars and the epoch it resumed from (0: from scratch)."""
    log_lines: List[str]
    records: List[dict]
    resumed_epoch: int
    trained: bool

    def kept_until(self, epoch: Optional[int]) -> 'Start':
        """This start cut after ``epoch`` (the next start resumed from it); ``None`` keeps everything."""
        if epoch is None:
            return self
        next_epoch = re.compile(rf'Epoch\(train\)\s+\[{epoch + 1}\]\[')
        end = next((i for i, line in enumerate(self.log_lines) if next_epoch.search(line)), len(self.log_lines))
        records = [r for r in self.records if r.get('epoch', r['step']) <= epoch]
        return Start(self.log_lines[:end], records, self.resumed_epoch, self.trained)

    def wall_seconds(self) -> float:
        """Seconds from the first time-stamped log line to the last one (0 without two of them)."""
        stamps = [datetime.datetime.strptime(m.group(1), '%Y/%m/%d %H:%M:%S')
                  for m in map(TIMESTAMP.match, self.log_lines) if m]
        return (stamps[-1] - stamps[0]).total_seconds() if stamps else 0.0


def read_start(run_folder: Path) -> Start:
    """The start logged in ``run_folder`` (``<stamp>.log`` and ``vis_data/scalars.json``)."""
    log_lines = (run_folder / f'{run_folder.name}.log').read_text().splitlines()
    scalars = run_folder / 'vis_data' / 'scalars.json'
    records = [json.loads(line) for line in scalars.read_text().splitlines()] if scalars.is_file() else []
    resumed = next((int(m.group(1)) for m in map(RESUMED.search, log_lines) if m), 0)
    trained = resumed > 0 or any('Epoch(train)' in line for line in log_lines)
    return Start(log_lines, records, resumed, trained)


@dataclass
class TrainingRecord:
    train_wall_s: float
    starts: int
    records: List[dict]
    log: str


def assemble(work_dir: Path) -> TrainingRecord:
    """The record of the training run in ``work_dir`` (see the module docstring)."""
    folders = sorted(p for p in work_dir.iterdir() if p.is_dir() and RUN_FOLDER.match(p.name))
    starts = [start for start in map(read_start, folders) if start.trained]
    if not starts:
        raise FileNotFoundError(f'work_dir={str(work_dir)!r} holds no MMEngine run folder (<YYYYMMDD_HHMMSS>/) '
                                'with a logged training iteration')
    fresh = max(i for i, start in enumerate(starts) if i == 0 or start.resumed_epoch == 0)
    starts = starts[fresh:]
    kept = [start.kept_until(following.resumed_epoch) for start, following in zip(starts, starts[1:])]
    kept.append(starts[-1])
    return TrainingRecord(
        train_wall_s=sum(start.wall_seconds() for start in kept),
        starts=len(kept),
        records=[record for start in kept for record in start.records],
        log='\n'.join(line for start in starts for line in start.log_lines) + '\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', type=Path)
    parser.add_argument('--out', type=Path, required=True, help='folder for train.log and scalars.json')
    args = parser.parse_args()
    record = assemble(args.work_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'train.log').write_text(record.log)
    (args.out / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in record.records))
    print(round(record.train_wall_s), record.starts)


if __name__ == '__main__':
    main()
