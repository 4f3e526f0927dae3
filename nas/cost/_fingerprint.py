"""A short, stable id of the hardware and software that a latency was measured on.

``device_fingerprint("cpu", 2)`` -> ``"cpu-amd-epyc-2c-2t-torch2.5.1-3f9a0c1e"``: a readable slug
(processor, cores, threads, torch version) and 8 hex digits of a hash over everything that
identifies the setting (the full :func:`device_info`). ``ort-cpu`` (the exported ONNX graph in
onnxruntime) names the onnxruntime version instead: ``"ort-cpu-amd-epyc-2c-2t-ort1.32.0-<hash>"``
(torch, which exports the graph, is still in the hash). Latency tables are filed under it, so a
table measured on one machine, runtime or software version is never used for another.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re

import torch

from nas.errors import NasError

__all__ = ["device_fingerprint", "device_info", "device_kind"]


def device_info(device: str = "cpu", threads: int = 2) -> dict[str, object]:
    """What the fingerprint is made of. On CPU the thread count is part of it (latency depends on
    it), and on ``ort-cpu`` also the onnxruntime version and the ONNX opset of the export; on CUDA
    the GPU's name, compute capability and CUDA version are added instead."""
    kind = device_kind(device)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise NasError(f"threads must be an integer >= 1, got {threads!r}")
    info: dict[str, object] = {
        "device": kind,
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 1,
        "machine": platform.machine(),
        "system": platform.system(),
        "torch": torch.__version__,
    }
    if kind in ("cpu", "ort-cpu"):
        info["threads"] = threads
        if kind == "ort-cpu":
            import onnxruntime

            from nas.cost._onnx import OPSET

            info["onnxruntime"] = onnxruntime.__version__
            info["opset"] = OPSET
    else:
        if not torch.cuda.is_available():
            raise NasError(f"device {device!r} asked for, but no CUDA GPU is available; use cpu")
        index = torch.device(device).index or 0
        info["gpu"] = torch.cuda.get_device_name(index)
        info["capability"] = ".".join(map(str, torch.cuda.get_device_capability(index)))
        info["cuda"] = torch.version.cuda
    return info


def device_fingerprint(device: str = "cpu", threads: int = 2) -> str:
    """A readable slug plus a short hash of :func:`device_info`; the same on every call for the
    same machine, software, device and (on CPU, torch's or onnxruntime's) thread count."""
    info = device_info(device, threads)
    digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:8]
    torch_version = str(info["torch"]).split("+")[0]
    if info["device"] == "cuda":
        return "-".join(["cuda", _slug(str(info["gpu"])), f"torch{torch_version}", digest])
    cpu = [_slug(str(info["cpu"])), f"{info['cores']}c", f"{info['threads']}t"]
    if info["device"] == "ort-cpu":
        return "-".join(["ort-cpu", *cpu, f"ort{info['onnxruntime']}", digest])
    return "-".join(["cpu", *cpu, f"torch{torch_version}", digest])


def device_kind(device: str) -> str:
    """``"cpu"``, ``"ort-cpu"`` or ``"cuda"`` (for ``cuda`` and ``cuda:N``); NasError naming the
    accepted names otherwise."""
    if device in ("cpu", "ort-cpu"):
        return device
    if isinstance(device, str) and re.fullmatch(r"cuda(:\d+)?", device):
        return "cuda"
    raise NasError(f"device {device!r}: use cpu, ort-cpu, cuda or cuda:N")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name.strip() in ("model name", "Hardware", "Processor") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _slug(text: str, limit: int = 24) -> str:
    text = re.sub(r"\((r|tm)\)|\b(cpu|processor|\d+-core)\b|@.*$", " ", text, flags=re.I)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "unknown"
