"""Token mixers against naive per-window references (padding and masking included)."""

from __future__ import annotations

import pytest
import torch

from nas.arch import MixerConfig
from nas.models._mixers import CrossShapedAttention, DiversityShortcut, FrequencyFilter


def _naive_stripes(q, v, h, w, ws, dh, scale, horizontal):
    """Attention of every token with the tokens of its stripe (valid ones only), key = value."""
    b, _, c = q.shape
    qm = q.reshape(b, h, w, c // dh, dh)
    vm = v.reshape(b, h, w, c // dh, dh)
    out = torch.zeros_like(qm)
    for start in range(0, h if horizontal else w, ws):
        sl = slice(start, start + ws)
        qs = qm[:, sl] if horizontal else qm[:, :, sl]
        vs = vm[:, sl] if horizontal else vm[:, :, sl]
        shape = qs.shape
        qt = qs.reshape(b, -1, c // dh, dh).transpose(1, 2)  # (b, heads, n, dh)
        vt = vs.reshape(b, -1, c // dh, dh).transpose(1, 2)
        att = (qt @ vt.transpose(-1, -2) * scale).softmax(-1) @ vt
        res = att.transpose(1, 2).reshape(shape)
        if horizontal:
            out[:, sl] = res
        else:
            out[:, :, sl] = res
    return out.reshape(b, h * w, c)


@pytest.mark.parametrize("h,w,ws", [(7, 7, 7), (16, 16, 7), (9, 13, 2), (5, 11, 3), (8, 6, 1)])
@pytest.mark.parametrize("horizontal", [True, False])
def test_cross_shaped_stripes_equal_naive(h, w, ws, horizontal):
    torch.manual_seed(0)
    attn = CrossShapedAttention(32, heads=2, window=ws).double()
    q = torch.randn(2, h * w, 16, dtype=torch.float64)
    v = torch.randn(2, h * w, 16, dtype=torch.float64)
    got = attn._stripes(q, v, h, w, horizontal)
    want = _naive_stripes(q, v, h, w, ws, attn.dim_head, attn.scale, horizontal)
    # the -100 logit of padded keys leaves ~e-44 of weight: equal to float64 precision
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_cross_shaped_narrow_half_uses_one_head():
    attn = CrossShapedAttention(32, heads=1, window=1)  # HRViT-b1 branch 1: half 16 < dim 32
    assert attn.dim_head == 16 and attn.scale == 16**-0.5


def test_attention_output_bn_starts_at_zero():
    attn = CrossShapedAttention(64, heads=2, window=2).train()
    y = attn(torch.randn(2, 36, 64), (6, 6))
    assert torch.count_nonzero(y) == 0


def test_diversity_shortcut_factorisation():
    des = DiversityShortcut(240)
    assert (des.p, des.k) == (16, 15)
    assert des(torch.randn(2, 5, 240)).shape == (2, 5, 240)


def test_frequency_filter_groups():
    cfg = MixerConfig(type="freq", heads=8, hp_kernels=(3, 5, 7), hp_heads=(2, 3, 3),
                      lp_sizes=(1, 2, 3, 6))
    filt = FrequencyFilter(64, cfg)
    assert [c.kernel_size[0] for c in filt.hp] == [3, 5, 7]
    assert [c.in_channels for c in filt.hp] == [16, 24, 24]
    q = torch.zeros(1, 8, 35, 8)
    v = torch.ones(1, 8, 35, 8)
    # q = 0 kills the high-pass term; the low-pass of a constant map is relu(1) = 1 everywhere
    out = filt(q, v, (5, 7))
    torch.testing.assert_close(out, torch.ones_like(out))
