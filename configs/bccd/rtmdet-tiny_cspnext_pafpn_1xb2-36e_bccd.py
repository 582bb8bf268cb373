# BCCD light recipe, peer: MMDetection's RTMDet-tiny (CSPNeXt + CSPNeXt-PAFPN) with batches of 2 instead of 8
# (4x the steps over the same 36 epochs, lr unchanged). Why: docs/light_detectors.md
_base_ = './rtmdet-tiny_cspnext_pafpn_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
