"""Compare two prediction dumps of ``tools/test.py --out`` detection by detection (e.g. a checkpoint and its ONNX
export on the same test set).

    python tools/compare_predictions.py REFERENCE.pkl OTHER.pkl

Per image, each reference detection is matched to the other's detection of the same label with the highest IoU
(at least 0.99); prints the share of detections matched, the worst IoU and the largest |score difference|, and
exits with 1 unless the outputs are the same by the project's bar (>= 99% matched, |score difference| <= 1e-3).
"""
import argparse
import pickle
import sys

from mmdet_ghostnet.export.compare import (MAX_SCORE_DIFF, MIN_IOU, MIN_MATCHED, combine, match_detections,
                                           same_detections)
from mmdet_ghostnet.utils.cli import check_existing_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('reference', help='predictions of tools/test.py --out (.pkl)')
    parser.add_argument('other', help='predictions of the same test set to compare with them')
    args = parser.parse_args()
    dumps = []
    for name in ('reference', 'other'):
        check_existing_file(parser, name, getattr(args, name))
        with open(getattr(args, name), 'rb') as stream:
            dumps.append({sample['img_path']: sample['pred_instances'] for sample in pickle.load(stream)})
    if dumps[0].keys() != dumps[1].keys():
        parser.error(f'reference={args.reference!r} and other={args.other!r} hold predictions of different images')
    result = combine([match_detections(ref['bboxes'], ref['scores'], ref['labels'], other['bboxes'],
                                       other['scores'], other['labels'])
                      for ref, other in ((dumps[0][key], dumps[1][key]) for key in dumps[0])])
    print(f"{len(dumps[0])} images: reference {result['reference']} detections, other {result['other']}; matched "
          f"(same label, IoU >= {MIN_IOU}) {result['matched']}; worst IoU {result['worst_iou']:.6f}; largest "
          f"|score difference| {result['max_score_diff']:.2e}")
    same = same_detections(result)
    print('same detections' if same else f'NOT the same detections (needed: {MIN_MATCHED:.0%} matched, '
          f'|score difference| <= {MAX_SCORE_DIFF})')
    return 0 if same else 1


if __name__ == '__main__':
    sys.exit(main())
