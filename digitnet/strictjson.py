"""Numbers as strict JSON has them: plain lists and numbers, with no infinity and no NaN.

Far from the trained weights a cost can overflow to infinity, and an experiment, the
command line's ``--json`` and the web page all hand such numbers on; each makes them
strict here, so that every one of them says an infinite cost the same way: None (null).
"""

import math

import numpy as np


def strict(value):
    """``value`` (dicts, lists, arrays and numbers) as plain lists and numbers, with every infinite
    or NaN number replaced by None."""
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, dict):
        return {key: strict(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
