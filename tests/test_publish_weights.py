"""Publishing a training checkpoint's weights (float16, finite, atomic) and its entry in the model index."""
import hashlib

import pytest
import torch
import yaml
from torch import nn

from mmdet_ghostnet.engine.publish import publish_weights, update_model_index

METRICS = {'coco/bbox_mAP': 0.5549, 'coco/bbox_mAP_50': 0.894, 'coco/bbox_mAP_75': 0.6021}


@pytest.fixture
def training_checkpoint(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    model[1].running_var.fill_(2.0)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    path = tmp_path / 'epoch_3.pth'
    torch.save(dict(meta=dict(epoch=3, seed=0, dataset_meta=dict(classes=('a', 'b')), rng_state=[1, 2]),
                    state_dict=model.state_dict(), optimizer=optimizer.state_dict()), path)
    return path, model


def test_weights_only_in_float16_load_into_float32(training_checkpoint, tmp_path):
    path, model = training_checkpoint
    out = tmp_path / 'published.pth'
    sha256 = publish_weights(path, out)
    assert sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    published = torch.load(out, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == dict(epoch=3, seed=0, dataset_meta=dict(classes=('a', 'b')))
    state_dict = published['state_dict']
    assert state_dict['0.weight'].dtype == torch.float16
    assert state_dict['1.num_batches_tracked'].dtype == torch.int64
    fresh = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    fresh.load_state_dict(state_dict)
    assert fresh[0].weight.dtype == torch.float32
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[name], tensor, rtol=1e-3, atol=1e-4)
    assert out.stat().st_size < path.stat().st_size / 2


def test_fp32_keeps_the_weights_exactly(training_checkpoint, tmp_path):
    path, model = training_checkpoint
    out = tmp_path / 'published.pth'
    publish_weights(path, out, fp16=False)
    for name, tensor in torch.load(out, weights_only=True)['state_dict'].items():
        assert torch.equal(tensor, model.state_dict()[name])


def test_non_finite_weights_are_refused_and_nothing_is_written(training_checkpoint, tmp_path):
    path, model = training_checkpoint
    state_dict = model.state_dict()
    state_dict['1.running_var'][3] = float('nan')
    torch.save(dict(meta={}, state_dict=state_dict), path)
    out = tmp_path / 'published.pth'
    with pytest.raises(ValueError, match=r"1 non-finite tensors \(\['1.running_var'\]\)"):
        publish_weights(path, out)
    assert list(tmp_path.iterdir()) == [path]


def test_a_checkpoint_without_state_dict_is_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save([1, 2], path)
    with pytest.raises(ValueError, match='holds no state_dict'):
        publish_weights(path, tmp_path / 'out.pth')


def test_model_index_entry_is_added_then_replaced_in_place(tmp_path):
    index = tmp_path / 'metafile.yml'
    weights = tmp_path / 'w.pth'
    weights.write_bytes(b'x' * 2**20)
    update_model_index(index, 'b_row', 'configs/b.py', str(weights), 'f' * 64, METRICS, {'Seed': 0})
    update_model_index(index, 'a_row', 'configs/a.py', str(weights), 'e' * 64, METRICS, {'Seed': 1})
    update_model_index(index, 'b_row', 'configs/b.py', str(weights), '0' * 64, METRICS, {'Seed': 2})
    models = yaml.safe_load(index.read_text())['Models']
    assert [m['Name'] for m in models] == ['b_row', 'a_row']
    b_row = models[0]
    assert b_row['Metadata'] == {'Seed': 2, 'Weights sha256': '0' * 64, 'Weights MB': 1.0}
    assert b_row['Results'][0]['Metrics'] == {'box AP': 55.5, 'box AP@0.5': 89.4, 'box AP@0.75': 60.2}
    assert b_row['Config'] == 'configs/b.py' and b_row['Weights'] == str(weights)


def test_a_zoo_entry_keeps_its_description_and_loses_the_old_files_measurements(tmp_path):
    index = tmp_path / 'metafile.yml'
    weights = tmp_path / 'w.pth'
    weights.write_bytes(b'x' * 2**19)
    benchmark = {'Files': ['docs/model_zoo/benchmark_run1.json'], 'Protocol': 'batch 1'}
    index.write_text(yaml.safe_dump({'Benchmark': benchmark, 'Models': [
        {'Name': 'a_row', 'Title': 'A', 'Metadata': {'Recommended': True, 'Use': 'CPUs', 'Runs': ['r0'],
                                                     'Latency deployed (ms)': '50 (49-51)'}},
        {'Name': 'b_row', 'Metadata': {'Use': 'GPUs'}}]}))
    update_model_index(index, 'a_row', 'configs/a.py', str(weights), 'e' * 64, METRICS, {'Seed': 1},
                       describe={'Runs': ['r1', 'r0']})
    zoo = yaml.safe_load(index.read_text())
    assert zoo['Benchmark'] == benchmark
    a_row = zoo['Models'][0]
    assert a_row['Title'] == 'A'
    assert a_row['Metadata'] == {'Recommended': True, 'Use': 'CPUs', 'Runs': ['r1', 'r0'], 'Seed': 1,
                                 'Weights sha256': 'e' * 64, 'Weights MB': 0.5}
    update_model_index(index, 'b_row', 'configs/b.py', str(weights), 'f' * 64, METRICS, {},
                       describe={'Recommended': True})
    assert [m['Metadata'].get('Recommended') for m in yaml.safe_load(index.read_text())['Models']] == [None, True]
