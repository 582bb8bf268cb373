def make_divisible(value: float, divisor: int = 4, min_value: int = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` (at least ``min_value``, default ``divisor``).

    If rounding down loses more than 10% of ``value``, one more ``divisor`` is added. This is the rule the
    official GhostNet uses for every channel count, so widths like 1.1x reproduce the official channels.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded
