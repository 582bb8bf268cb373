"""Check or renew the model zoo: checkpoints/metafile.yml's measured fields and the README's model table.

    python tools/model_zoo.py                   # exit 1, naming each field or table line its files contradict
    python tools/model_zoo.py --update          # write them from the weights, run folders and benchmark reports
    python tools/model_zoo.py --benchmark-args  # tools/benchmark.py's --models/--checkpoint for the zoo

What each field is derived from: mmdet_ghostnet/utils/model_zoo.py.
"""
import argparse
import sys

from mmdet_ghostnet.utils.model_zoo import (METAFILE, REPO, benchmark_arguments, derived, load_zoo, readme_table,
                                            save_zoo, stale, with_table)

README = REPO / 'README.md'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument('--update', action='store_true', help='write the derived fields and the README table')
    action.add_argument('--benchmark-args', action='store_true', help="print tools/benchmark.py's model arguments")
    args = parser.parse_args()
    zoo = load_zoo(METAFILE)
    if args.benchmark_args:
        print(' '.join(benchmark_arguments(zoo)))
        return 0
    readme = README.read_text()
    if args.update:
        zoo = derived(zoo)
        save_zoo(zoo, METAFILE)
        README.write_text(with_table(readme, readme_table(zoo)))
        print(f'[zoo] {METAFILE.relative_to(REPO)} and README.md renewed ({len(zoo["Models"])} models)')
        return 0
    problems = stale(zoo)
    if with_table(readme, readme_table(zoo)) != readme:
        problems.append('README.md: the model table is not the metafile\'s (python tools/model_zoo.py --update)')
    for problem in problems:
        print(f'[zoo] {problem}', file=sys.stderr)
    print(f'[zoo] {"stale: " + str(len(problems)) + " problems" if problems else "up to date"}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
