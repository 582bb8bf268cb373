"""``bash tools/setup_env.sh --plan``: how mmcv would be built (CPU ops, CUDA ops, or stop) and why, installing
nothing. Fake ``nvidia-smi`` and ``nvcc`` scripts stand in for a GPU and a CUDA toolkit on a PATH that holds only
them and the few tools the plan uses, so that the machine's own (this one has nvcc 13.0 and no GPU) do not count."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / 'tools' / 'setup_env.sh'
TOOLS = ['sed', 'grep', 'head', 'wc', 'sort', 'tr', 'cat', 'sha256sum', 'cut', 'dirname', 'readlink']
H100 = 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a3e3f6c-0000-0000-0000-000000000000)'


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\n' + body)
    path.chmod(0o755)


class Machine:
    """A PATH with the plan's tools, and optionally a fake GPU driver and CUDA toolkit."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.bin = tmp_path / 'bin'
        self.bin.mkdir()
        for tool in TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        self.path = [str(self.bin)]

    def gpu(self, listing: str = H100, compute_cap: str = '9.0'):
        _script(self.bin / 'nvidia-smi',
                f'case "$*" in\n  -L) echo "{listing}" ;;\n  *compute_cap*) echo "{compute_cap}" ;;\nesac\n')

    def broken_driver(self):
        _script(self.bin / 'nvidia-smi', 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the '
                                         'NVIDIA driver."\nexit 9\n')

    def toolkit(self, release: str = '13.0'):
        home = self.tmp / f'cuda-{release}'
        _script(home / 'bin' / 'nvcc', f'echo "Cuda compilation tools, release {release}, V{release}.88"\n')
        (home / 'include').mkdir()
        (home / 'include' / 'cuda_runtime.h').write_text('')
        self.path.insert(0, str(home / 'bin'))
        return home

    def plan(self, *args, **env):
        environ = {k: v for k, v in os.environ.items()
                   if k not in ('MMCV_CUDA', 'CUDA_HOME', 'CUDA_PATH', 'TORCH_CUDA_ARCH_LIST', 'MAX_JOBS')}
        environ.update(PATH=os.pathsep.join(self.path), PYTHON=sys.executable, VENV=str(self.tmp / 'venv'),
                       MMDET_GHOSTNET_CACHE=str(self.tmp / 'cache'), **env)
        return subprocess.run([shutil.which('bash'), str(SETUP), *(args or ('--plan',))], env=environ,
                              capture_output=True, text=True, timeout=60)


@pytest.fixture
def machine(tmp_path):
    return Machine(tmp_path)


def _ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_no_gpu_builds_the_cpu_ops_even_with_nvcc(machine):
    machine.toolkit('13.0')
    out = _ok(machine.plan())
    assert '[setup] plan: mmcv 2.1.0 with its CPU ops' in out
    assert 'no GPU (no nvidia-smi on PATH)' in out
    py = f'{sys.version_info.major}.{sys.version_info.minor}'
    assert f"compiled into {machine.tmp / 'cache'}/mmcv-2.1.0/torch2.14.1-py{py} (" in out
    assert not (machine.tmp / 'venv').exists(), '--plan installs nothing'


def test_a_driver_that_answers_no_gpu_is_no_gpu(machine):
    machine.broken_driver()
    out = _ok(machine.plan())
    assert 'with its CPU ops' in out and 'no GPU (nvidia-smi -L lists no GPU)' in out


def test_gpu_and_matching_nvcc_build_the_cuda_ops(machine):
    machine.gpu()
    home = machine.toolkit('13.0')
    out = _ok(machine.plan())
    assert (f'[setup] plan: mmcv 2.1.0 with its CUDA ops (FORCE_CUDA=1, CUDA 13.0, GPU architectures 9.0, '
            f'CUDA_HOME={home})') in out
    assert 'nvidia-smi -L lists 1 GPU(s): GPU 0: NVIDIA H100 80GB HBM3;' in out
    assert f'torch 2.14.1 is a CUDA 13.0 build and nvcc {home}/bin/nvcc is CUDA 13.0, which matches' in out
    py = f'{sys.version_info.major}.{sys.version_info.minor}'
    assert f'mmcv-2.1.0/torch2.14.1-py{py}-cu130-sm90 (' in out


def test_a_newer_minor_nvcc_matches(machine):
    machine.gpu(compute_cap='8.6')
    machine.toolkit('13.1')
    out = _ok(machine.plan())
    assert 'with its CUDA ops (FORCE_CUDA=1, CUDA 13.1, GPU architectures 8.6' in out and '-cu131-sm86 (' in out


def test_gpu_without_nvcc_stops_with_the_instruction(machine):
    machine.gpu()
    result = machine.plan()
    assert result.returncode == 3
    assert '[setup] plan: stop, mmcv 2.1.0 cannot be built as asked' in result.stdout
    assert ('no usable nvcc (no nvcc on PATH and CUDA_HOME is unset): install the CUDA toolkit 13.0 (nvcc 13.x, '
            'the CUDA torch 2.14.1 is built with)') in result.stdout
    assert 'MMCV_CUDA=0 bash tools/setup_env.sh' in result.stdout


def test_gpu_with_another_major_nvcc_stops(machine):
    machine.gpu()
    machine.toolkit('12.4')
    result = machine.plan()
    assert result.returncode == 3
    assert 'is CUDA 12.4, but torch 2.14.1 is a CUDA 13.0 build (the major versions must match)' in result.stdout
    assert 'install the CUDA toolkit 13.0' in result.stdout and 'MMCV_CUDA=0' in result.stdout


def test_cuda_home_without_nvcc_is_named(machine, tmp_path):
    machine.gpu()
    result = machine.plan(CUDA_HOME=str(tmp_path / 'nowhere'))
    assert result.returncode == 3 and f'CUDA_HOME={tmp_path}/nowhere has no bin/nvcc' in result.stdout


def test_mmcv_cuda_0_builds_the_cpu_ops_on_a_gpu_machine(machine):
    machine.gpu()
    machine.toolkit('13.0')
    out = _ok(machine.plan(MMCV_CUDA='0'))
    assert '[setup] plan: mmcv 2.1.0 with its CPU ops' in out
    assert 'MMCV_CUDA=0 asks for the CPU ops (nvidia-smi -L lists 1 GPU(s)' in out


def test_mmcv_cuda_1_without_gpu_needs_the_architectures(machine):
    machine.toolkit('13.0')
    result = machine.plan(MMCV_CUDA='1')
    assert result.returncode == 3 and 'set TORCH_CUDA_ARCH_LIST' in result.stdout
    out = _ok(machine.plan(MMCV_CUDA='1', TORCH_CUDA_ARCH_LIST='8.0;9.0+PTX'))
    assert 'with its CUDA ops (FORCE_CUDA=1, CUDA 13.0, GPU architectures 8.0;9.0+PTX' in out
    assert 'MMCV_CUDA=1 asks for the CUDA ops (no nvidia-smi on PATH)' in out and '-cu130-sm80_90ptx (' in out


@pytest.mark.parametrize('value', ['yes', '2', 'cuda'])
def test_a_bad_mmcv_cuda_is_refused(machine, value):
    result = machine.plan(MMCV_CUDA=value)
    assert result.returncode == 2
    assert (f"MMCV_CUDA='{value}' is not valid: allowed values are 0 (mmcv's CPU ops), 1 (its CUDA ops) or unset"
            in result.stderr)
    assert result.stdout == ''


def test_an_unknown_argument_is_refused(machine):
    result = machine.plan('--plna')
    assert result.returncode == 2 and "unknown argument '--plna'" in result.stderr


def test_the_stamp_covers_the_constraints_file(tmp_path):
    """A changed constraints file makes the set-up run again (the plan says whether the venv is up to date)."""
    root = tmp_path / 'repo'
    for name in ('tools/setup_env.sh', 'pyproject.toml', 'requirements/constraints.txt'):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    env = {k: v for k, v in os.environ.items() if k not in ('MMCV_CUDA', 'CUDA_HOME')}
    env.update(PYTHON=sys.executable, VENV=str(tmp_path / 'venv'), MMDET_GHOSTNET_CACHE=str(tmp_path / 'cache'),
               MMCV_CUDA='0')

    def plan():
        result = subprocess.run(['bash', str(root / 'tools/setup_env.sh'), '--plan'], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    stamp = plan().split('(stamp ')[1].split(')')[0]
    (tmp_path / 'venv').mkdir()
    (tmp_path / 'venv' / '.setup-stamp').write_text(stamp + '\n')
    assert 'is up to date' in plan()
    with open(root / 'requirements/constraints.txt', 'a') as f:
        f.write('# changed\n')
    assert 'is built or updated' in plan()


def test_this_machine_without_gpu_plans_the_cpu_ops():
    """The machine's own PATH (here: nvcc 13.0, no GPU): no GPU must keep today's CPU path."""
    smi = shutil.which('nvidia-smi')
    if smi and subprocess.run([smi, '-L'], capture_output=True, text=True).stdout.startswith('GPU '):
        pytest.skip('this machine has a GPU')
    env = {k: v for k, v in os.environ.items() if k != 'MMCV_CUDA'}
    result = subprocess.run(['bash', str(SETUP), '--plan'], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '[setup] plan: mmcv 2.1.0 with its CPU ops' in result.stdout and 'no GPU' in result.stdout
