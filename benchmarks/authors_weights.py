"""Our backbone's weights loaded into the authors' module code, and the check that the two then
compute the same function (used by ``benchmarks/speed_vs_authors.py``; nothing in ``nas``
imports this).

One table of explicit name rules per family translates every name in the authors'
``state_dict`` into the name of the tensor of ours that fills it (``re.sub`` rules applied in
order, as checkpoint converters do). The load is strict both ways:

* every parameter and buffer of theirs is filled from ours, except their classifier, which
  our backbone does not have (``THEIRS_OWN``: HRViT's ``head.``, MPViT's ``cls_head.``; those
  keep their own initialisation and are not used by the feature functions compared here);
* every parameter and buffer of ours is used (``OURS_UNUSED`` is empty for all three);
* shapes must be equal: no reshape is needed, because our layers keep the authors' layouts
  (``Pointwise`` is an ``nn.Conv2d`` with its (out, in, 1, 1) weight; HRViT's fused q/v
  projection and MPViT/AFFormer's fused qkv are single ``nn.Linear`` in both). A shape that
  differs raises instead of being reshaped silently.

The authors' modules that are shared by several blocks (MPViT/AFFormer's ``cpe`` and ``crpe``
of an encoder) appear once per block in their ``state_dict``; all those names translate to the
one shared tensor of ours.

:func:`check_same_function` perturbs every tensor of ours (so that zero-initialised parts,
such as HRViT's attention BatchNorm, and the BatchNorm running statistics are exercised),
loads the result into both, and compares the eval-mode feature maps.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from nas.models import Backbone

__all__ = [
    "OURS_UNUSED",
    "THEIRS_OWN",
    "WeightMappingError",
    "check_same_function",
    "load_ours_into_theirs",
    "their_name_to_ours",
]

_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def _hrvit_features(m: re.Match) -> str:
    # their features = (fusion 0, stage 0, fusion 1, stage 1, ...); ours: module k holds both
    k, stage = divmod(int(m.group(1)), 2)
    return f"modules_.{k}.{'cell' if stage else 'fusion'}."


# HRViT: features.{2k} = HRViTFusionBlock (blocks[out][in] = the same Sequential layout as our
# Fusion.paths[out][in]), features.{2k+1} = HRViTStage (patch_embed[i], branches[i], norm[i]).
_HRVIT = [
    (r"^stem\.conv1\.", "stem.0."), (r"^stem\.bn1\.", "stem.1."),
    (r"^stem\.conv2\.", "stem.3."), (r"^stem\.bn2\.", "stem.4."),
    (r"^features\.(\d+)\.", _hrvit_features),
    (r"\.fusion\.blocks\.", ".fusion.paths."),
    (r"\.cell\.patch_embed\.(\d+)\.proj\.", r".cells.\1.embed."),
    (r"\.cell\.patch_embed\.(\d+)\.norm\.", r".cells.\1.embed_norm."),
    (r"\.cell\.norm\.(\d+)\.", r".cells.\1.norm."),
    (r"\.cell\.branches\.(\d+)\.(\d+)\.", r".cells.\1.stack.blocks.\2."),
    (r"\.attn_norm\.", ".norm1."),
    (r"\.attn\.to_qkv\.", ".mixer.qv."),
    (r"\.attn\.parallel_conv\.1\.", ".mixer.v_conv.1."),
    (r"\.attn\.to_out\.0\.", ".mixer.proj."),
    (r"\.attn\.attn_bn\.", ".mixer.bn."),
    (r"\.des\.proj_right\.", ".shortcut.right."),
    (r"\.des\.proj_left\.", ".shortcut.left."),
    (r"\.ffn_norm\.", ".norm2."),
    (r"\.ffn\.conv\.conv_3\.", ".ffn.conv3."),
    (r"\.ffn\.conv\.conv_5\.", ".ffn.conv5."),
]

# MPViT and AFFormer: stage s = patch_embed_stages[s] (the embedding chain) + mhca_stages[s]
# (conv path, one encoder per path, aggregate); ours: module s, its one cell.
_MP_AF = [
    (r"^stem\.0\.conv\.", "stem.0."), (r"^stem\.0\.bn\.", "stem.1."),
    (r"^stem\.1\.conv\.", "stem.3."), (r"^stem\.1\.bn\.", "stem.4."),
    (r"^patch_embed_stages\.(\d+)\.patch_embeds\.(\d+)\.patch_conv\.dwconv\.",
     r"modules_.\1.cells.0.embeds.\2.dw."),
    (r"^patch_embed_stages\.(\d+)\.patch_embeds\.(\d+)\.patch_conv\.pwconv\.",
     r"modules_.\1.cells.0.embeds.\2.pw."),
    (r"^patch_embed_stages\.(\d+)\.patch_embeds\.(\d+)\.patch_conv\.bn\.",
     r"modules_.\1.cells.0.embeds.\2.bn."),
    (r"^mhca_stages\.(\d+)\.", r"modules_.\1.cells.0."),
    # MPViT's ResBlock (InvRes) and AFFormer's Restore: our ConvPath (conv_path / pixel)
    (r"\.(InvRes|Restore)\.conv1\.conv\.", r".\1.expand.0."),
    (r"\.(InvRes|Restore)\.conv1\.bn\.", r".\1.expand.1."),
    (r"\.(InvRes|Restore)\.dwconv\.", r".\1.dw."),
    (r"\.(InvRes|Restore)\.norm\.", r".\1.bn."),
    (r"\.(InvRes|Restore)\.conv2\.conv\.", r".\1.project.0."),
    (r"\.(InvRes|Restore)\.conv2\.bn\.", r".\1.project.1."),
    (r"\.InvRes\.", ".conv_path."),
    (r"\.Restore\.", ".pixel."),
    (r"\.aggregate\.conv\.", ".aggregate.0."),
    (r"\.aggregate\.bn\.", ".aggregate.1."),
    # the encoder's shared cpe/crpe, under the encoder and under each of its blocks
    (r"\.mhca_blks\.(\d+)\.(MHCA_layers\.\d+\.)?cpe\.", r".stacks.\1.pos_enc."),
    (r"\.mhca_blks\.(\d+)\.(MHCA_layers\.\d+\.)?(factoratt_crpe\.)?crpe\.conv_list\.",
     r".stacks.\1.filter.hp."),
    (r"\.mhca_blks\.(\d+)\.MHCA_layers\.(\d+)\.", r".stacks.\1.blocks.\2."),
    (r"\.factoratt_crpe\.", ".mixer."),
    (r"\.mlp\.dwconv\.dwconv\.", ".ffn.dw."),  # AFFormer's Mlp
    (r"\.mlp\.", ".ffn."),
]

RULES = {"hrvit": _HRVIT, "mpvit": _MP_AF, "afformer": _MP_AF}
# the authors' parts our backbone lacks (name prefixes): kept from their own initialisation
THEIRS_OWN = {"hrvit": ("head.",), "mpvit": ("cls_head.",), "afformer": ()}
# ours that theirs lacks: none
OURS_UNUSED: dict[str, tuple[str, ...]] = {"hrvit": (), "mpvit": (), "afformer": ()}


class WeightMappingError(RuntimeError):
    """Our weights do not fill the authors' module, or the two compute different functions."""


def family(name: str) -> str:
    """``hrvit_b1`` -> ``hrvit`` (the key of RULES)."""
    return name.split("_")[0]


def their_name_to_ours(fam: str, their: str) -> str:
    """The name of our tensor that fills the authors' tensor ``their``."""
    out = their
    for pat, rep in RULES[fam]:
        out = re.sub(pat, rep, out)
    return out


def mapped_state_dict(name: str, ours: dict, theirs: nn.Module) -> dict:
    """The authors' full ``state_dict`` filled from ``ours`` (a state_dict of our backbone);
    raises WeightMappingError naming ``name`` on any unfilled, unused or misshapen tensor."""
    fam = family(name)
    own = THEIRS_OWN[fam]
    out, used, bad = {}, set(), []
    for key, ref in theirs.state_dict().items():
        if key.startswith(own):
            out[key] = ref
            continue
        src = their_name_to_ours(fam, key)
        if src not in ours:
            bad.append(f"{key} -> {src}: no such tensor of ours")
        elif ours[src].shape != ref.shape:
            bad.append(f"{key} -> {src}: shape {tuple(ours[src].shape)} vs {tuple(ref.shape)}")
        else:
            out[key] = ours[src]
            used.add(src)
    unused = [k for k in ours if k not in used and not k.startswith(OURS_UNUSED[fam])]
    bad += [f"ours {k}: used by none of theirs" for k in unused]
    if bad:
        more = f" (+{len(bad) - 8} more)" if len(bad) > 8 else ""
        raise WeightMappingError(f"{name}: weights do not map: " + "; ".join(bad[:8]) + more)
    return out


def load_ours_into_theirs(name: str, ours: nn.Module, theirs: nn.Module) -> None:
    """Copy our backbone's weights into the authors' module (strict)."""
    theirs.load_state_dict(mapped_state_dict(name, ours.state_dict(), theirs), strict=True)


def perturbed(sd: dict, seed: int = 0) -> dict:
    """A copy of ``sd`` with every float tensor moved off its initial value: noise of half its
    spread (0.1 where it is constant, e.g. zero-initialised norms), BatchNorm running
    variances drawn from [0.5, 2]."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, t in sd.items():
        if not t.is_floating_point():
            out[k] = t.clone()
        elif k.endswith("running_var"):
            out[k] = 0.5 + 1.5 * torch.rand(t.shape, generator=g)
        else:
            s = t.std().item() if t.numel() > 1 else 0.0
            s = s if s > 1e-8 else 0.1
            out[k] = t + 0.5 * s * torch.randn(t.shape, generator=g)
    return out


def _their_maps(out, n: int) -> dict[int, torch.Tensor]:
    """The authors' output by branch: a list of every branch, or the last branch alone."""
    if isinstance(out, (list, tuple)):
        return dict(enumerate(out))
    return {n - 1: out}


@torch.no_grad()
def max_difference(arch, ours_sd: dict, theirs: nn.Module, fwd, name: str,
                   x: torch.Tensor) -> float:
    """Largest max|ours - theirs| / max|ours| over the feature maps both return, in eval mode,
    with ``ours_sd`` loaded into our full backbone (every branch returned) and into theirs."""
    n = len(arch.stages)
    full = Backbone(arch, outputs=tuple(range(n)))
    full.load_state_dict(ours_sd, strict=True)
    load_ours_into_theirs(name, full, theirs)
    was = theirs.training
    full.eval()
    theirs.eval()
    ours_maps = full(x)
    theirs_maps = _their_maps(fwd(x), n)
    theirs.train(was)
    worst = 0.0
    for b, t in theirs_maps.items():
        o = ours_maps[b]
        if o.shape != t.shape:
            raise WeightMappingError(f"{name}: branch {b} shape {tuple(o.shape)} (ours) vs "
                                     f"{tuple(t.shape)} (theirs)")
        worst = max(worst, ((o - t).abs().max() / o.abs().max()).item())
    return worst


def check_same_function(name: str, arch, ours: nn.Module, theirs: nn.Module, fwd,
                        x: torch.Tensor, tol: float = 1e-4) -> tuple[float, float]:
    """Load ``ours`` into ``theirs`` and check both compute the same function: first with every
    tensor perturbed (all mapped parts matter), then with ours as they are (left loaded).
    Returns both relative differences; raises WeightMappingError naming ``name`` above
    ``tol``."""
    sd = ours.state_dict()
    diffs = (max_difference(arch, perturbed(sd), theirs, fwd, name, x),
             max_difference(arch, sd, theirs, fwd, name, x))
    if max(diffs) > tol:
        raise WeightMappingError(
            f"{name} ({arch.name}): ours and the authors' differ: max |diff| / max |ours| = "
            f"{diffs[0]:.2e} (perturbed weights), {diffs[1]:.2e} (initial weights) > {tol:g}")
    return diffs
