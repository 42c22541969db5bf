"""The gallery's HTML page: one self-contained index.html with the figures as PNG files beside it.

A small inline script marks every <img> as loaded (``data-loaded="yes"`` when naturalWidth > 0) and writes the
counts into ``#load-status`` (``data-images``, ``data-loaded``), so a headless browser can check the page.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

from ..serialization import atomic_write_bytes

__all__ = ["write_page", "format_number"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ccc;padding:1em 0}
.verdict{font-weight:bold;padding:.15em .5em;border-radius:4px}
.reproduced{background:#d4f4d4;color:#145214}.not-reproduced{background:#f8d7d7;color:#7a1212}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
td.num{text-align:right;font-family:monospace}img{max-width:100%;margin:.3em 0}
.meta{color:#666;font-size:90%}pre.error{background:#fee;padding:.5em;white-space:pre-wrap}
"""

_SCRIPT = """
function shenduMarkImages(){
  var imgs=document.images, ok=0;
  for(var i=0;i<imgs.length;i++){
    var good=imgs[i].complete && imgs[i].naturalWidth>0;
    imgs[i].setAttribute('data-loaded', good ? 'yes' : 'no');
    if(good){ok++;}
  }
  var s=document.getElementById('load-status');
  s.setAttribute('data-images', String(imgs.length));
  s.setAttribute('data-loaded', String(ok));
  s.textContent=ok+' of '+imgs.length+' figures loaded';
}
window.addEventListener('load', shenduMarkImages);
"""


def format_number(v):
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4g}"


def write_page(results, out_dir, quick=True, elapsed=None):
    """Write out_dir/index.html and out_dir/<experiment>-<i>.png for ``results`` (a list of Result); returns the
    page's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    e = html.escape
    n_ok = sum(r.verdict == "reproduced" for r in results)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>shendu gallery: the textbooks' claims, reproduced</title>", f"<style>{_CSS}</style>",
             f"<script>{_SCRIPT}</script></head><body>",
             "<h1>shendu gallery</h1>",
             f"<p>Small experiments, each testing one claim of the textbooks with shendu "
             f"({'quick' if quick else 'full'} mode). The verdict is computed from the measured numbers by the "
             f"stated criterion. <b>{n_ok} of {len(results)}</b> claims reproduced"
             + (f" in {elapsed:.1f} s" if elapsed is not None else "") + ".</p>",
             '<p id="load-status" data-images="?" data-loaded="?">figures not checked yet</p>',
             "<ul>" + "".join(f'<li><a href="#{e(r.name)}">{e(r.title)}</a>: '
                              f'<span class="verdict {r.verdict.replace(" ", "-")}">{e(r.verdict)}</span></li>'
                              for r in results) + "</ul>"]
    for r in results:
        cls = r.verdict.replace(" ", "-")
        parts.append(f'<section class="experiment" id="{e(r.name)}" data-verdict="{e(r.verdict)}">')
        parts.append(f"<h2>{e(r.title)}</h2>")
        parts.append(f'<p><b>Claim</b> ({e(r.section)}): {e(r.claim)}</p>')
        parts.append(f'<p><b>Verdict</b>: <span class="verdict {cls}">{e(r.verdict)}</span> '
                     f'<span class="meta">criterion: {e(r.criterion)}; {r.seconds:.1f} s</span></p>')
        if r.error:
            parts.append(f'<pre class="error">{e(r.error)}</pre>')
        for i, png in enumerate(r.figures):
            fname = f"{r.name}-{i}.png"
            atomic_write_bytes(out / fname, png)
            parts.append(f'<img src="{e(fname)}" alt="{e(r.title)}, figure {i + 1}">')
        if r.numbers:
            rows = "".join(f'<tr><td>{e(k)}</td><td class="num">{e(format_number(v))}</td></tr>'
                           for k, v in r.numbers.items())
            parts.append(f"<table><tr><th>measured</th><th>value</th></tr>{rows}</table>")
        parts.append("</section>")
    parts.append("</body></html>")
    path = out / "index.html"
    atomic_write_bytes(path, "\n".join(parts).encode("utf-8"))
    return path
