"""Exporting searched architectures: ArchConfig (YAML/JSON) and model card, weights
(safetensors), ONNX checked with onnxruntime, and timm registration.

>>> from nas.export import export, register_timm
>>> export("results/example", pareto=True, weights=True)   # -> results/example/export/
>>> register_timm("results/example/export")                # timm.create_model("nas_...")
"""

from nas.export._export import FORMATS, ExportResult, export
from nas.export._select import export_name
from nas.export._timm import register_timm, timm_name

__all__ = ["FORMATS", "ExportResult", "export", "export_name", "register_timm", "timm_name"]
