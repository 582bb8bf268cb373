import os

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope


def _share_the_cores_between_workers():
    """Under pytest-xdist (``make test`` runs one worker per core), each worker and the tools it starts get their
    share of the cores: workers each running torch's default of a thread per core would oversubscribe them."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if workers > 1 and 'OMP_NUM_THREADS' not in os.environ:
        threads = max(1, len(os.sched_getaffinity(0)) // workers)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        torch.set_num_threads(threads)


_share_the_cores_between_workers()


@pytest.fixture(autouse=True)
def _seed_and_scope():
    """Fixed seed for every test; mmdet as the default registry scope, as in a detection run."""
    torch.manual_seed(0)
    init_default_scope('mmdet')


@pytest.fixture
def build_from_config():
    """Build a model from a config dict after importing the plugin through ``custom_imports``, as a user would."""
    from mmdet.registry import MODELS

    def build(model_cfg: dict):
        cfg = Config(dict(custom_imports=dict(imports=['mmdet_ghostnet'], allow_failed_imports=False),
                          model=model_cfg))
        return MODELS.build(cfg.model)

    return build


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """A tiny demo set (16 train / 8 val images of 96 px) made by mmdet_ghostnet.demo."""
    from mmdet_ghostnet.demo import make_demo_dataset
    root = tmp_path_factory.mktemp('data') / 'demo'
    make_demo_dataset(root, num_train=16, num_val=8, image_size=96, seed=1)
    return root
