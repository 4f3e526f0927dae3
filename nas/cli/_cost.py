"""``nas cost ARCH``: analytic and fvcore FLOPs, params, predicted and measured latency."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def cost_cmd(
    arch: Annotated[str, typer.Argument(help="A reference name or a config file.")],
    input: Annotated[str, typer.Option("--input", help="Input size HxW.")] = "512x512",
    latency: Annotated[bool, typer.Option(
        "--latency", help="Also measure latency (batch 1, on --device).")] = False,
    device: Annotated[str, typer.Option(
        "--device", help="Where --latency measures: cpu, cuda, cuda:N (PyTorch) or ort-cpu (the "
        "exported ONNX graph in onnxruntime).")] = "cpu",
    threads: Annotated[int, typer.Option("--threads", help="CPU threads for --latency.")] = 2,
    processes: Annotated[int, typer.Option(
        "--processes", help="Time --latency in this many fresh processes (the median of their "
        "medians; 0: in this one).")] = 1,
    table: Annotated[Path | None, typer.Option(
        "--table", help="Latency table for a prediction.")] = None,
    no_fvcore: Annotated[bool, typer.Option(
        "--no-fvcore", help="Skip the fvcore cross-check.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Price ARCH: analytic FLOPs/params (no model built), fvcore FLOPs, latency."""
    from nas.arch import load_arch
    from nas.cli._paths import check_device
    from nas.cost import count_flops, estimate, measure_latency, parse_size
    from nas.errors import NasError

    size = parse_size(input)
    if threads < 1:
        raise NasError(f"--threads {threads}: give 1 or more")
    if processes < 0:
        raise NasError(f"--processes {processes}: give 0 (this process) or more")
    check_device(device, latency=True)
    config = load_arch(arch)
    lat_table = None
    if table is not None:
        from nas.cost import LatencyTable

        lat_table = LatencyTable.load(table)
        if latency and lat_table.device != device:
            raise NasError(f"--table {table} was profiled on {lat_table.device}, but --device is "
                           f"{device}: give --device {lat_table.device} or a table of {device}")
    t0 = time.perf_counter()
    est = estimate(config, size)
    out: dict = {"name": config.name, "input": f"{size[0]}x{size[1]}", "params": est.params,
                 "flops": est.flops, "estimate_ms": (time.perf_counter() - t0) * 1e3}
    model = None
    if not no_fvcore:
        from nas.models import build_model

        model = build_model(config).eval()
    if not no_fvcore:
        t0 = time.perf_counter()
        out["fvcore_flops"] = count_flops(model, size)
        out["fvcore_ms"] = (time.perf_counter() - t0) * 1e3
    if lat_table is not None:
        from nas.cost import predict_latency

        out["predicted_latency_ms"] = predict_latency(config, lat_table, size)
    if latency:
        # built from the config with seed 0 (in fresh processes when --processes >= 1)
        lat = measure_latency(config, size, device, threads=threads, processes=processes)
        out["latency_ms"], out["latency_iqr_ms"] = lat.median_ms, lat.spread_ms
        out["latency_device"] = device
    if as_json:
        typer.echo(json.dumps(out))
        return
    t = Table(title=f"{config.name or arch} at {out['input']}", show_header=False)
    t.add_row("params", f"{est.params:,}")
    t.add_row("FLOPs (analytic)",
              f"{est.flops:,} ({est.flops / 1e9:.3f} G) in {out['estimate_ms']:.2f} ms")
    if "fvcore_flops" in out:
        diff = out["fvcore_flops"] - est.flops
        same = "equal" if diff == 0 else f"differs by {diff:+,}"
        t.add_row("FLOPs (fvcore)",
                  f"{out['fvcore_flops']:,} ({same}) in {out['fvcore_ms']:.0f} ms")
    if "predicted_latency_ms" in out:
        t.add_row("latency (predicted)", f"{out['predicted_latency_ms']:.1f} ms")
    if latency:
        t.add_row("latency (measured)", f"{out['latency_ms']:.1f} ms "
                  f"(IQR {out['latency_iqr_ms']:.1f}), {device}, {threads} threads")
    Console().print(t)
