# Recipe probe of the BCCD light rows (docs/light_detectors.md): the nano row on the light recipe (batches of 2)
# with an exponential moving average of the weights, as RTMDet and YOLOX train (MMDetection's ExpMomentumEMA). The
# average is what is validated, kept as the best checkpoint and tested. Its window is scaled to this schedule's
# 3744 steps: momentum 0.002 averages over about 500 steps (5 epochs; RTMDet's 0.0002 over 5000 of its ~138k steps),
# and gamma 250 lets the average follow the weights closely over the first few epochs (RTMDet's 2000).
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py'

custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.002, gamma=250, update_buffers=True, priority=49)
]
