"""The progression report as one self-contained HTML page: the method sentence, the
rounded tables (:mod:`.display`), the notes and the figures (:mod:`.figures`) embedded as
base64 PNG, so the file opens anywhere on its own and reruns give the same bytes.

The figures come drawn (:func:`~cdisc_mapper.adam.report.figures.report_figures`): this
module needs no plotting library, so a process that only assembles the page (while
others draw) does not load one."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

import pandas as pd

from cdisc_mapper.adam.report.display import display_table
from cdisc_mapper.adam.report.files import summary_files
from cdisc_mapper.adam.report.method import method_text
from cdisc_mapper.spec.adam import ProgressionSummarySpec

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figcaption { font-style: italic; }
img { max-width: 100%; }
"""


def html_table(shown: pd.DataFrame) -> str:
    """A table of text as HTML (every cell escaped)."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in values) + "</tr>\n"
        for values in shown.itertuples(index=False)
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _figure(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>\n"
    )


def write_html(
    table: pd.DataFrame,
    spec: ProgressionSummarySpec,
    figures: list[tuple[str, bytes]],
    method: str,
) -> str:
    """The report page's text, with the figures (caption, PNG) in order."""
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{escape(spec.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        f"<h1>{escape(spec.title)}</h1>\n<p>{escape(method)}</p>\n",
    ]
    for heading, shown in display_table(table, spec):
        parts.append(f"<h2>{escape(heading)}</h2>\n{html_table(shown)}")
    if spec.notes:
        items = "".join(f"<li>{escape(n)}</li>\n" for n in spec.notes)
        parts.append(f"<h2>Notes</h2>\n<ul>\n{items}</ul>\n")
    if figures:
        parts.append("<h2>Figures</h2>\n")
        parts += [_figure(caption, png) for caption, png in figures]
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def write_page(
    table: pd.DataFrame,
    spec: ProgressionSummarySpec,
    figures: list[tuple[str, bytes]],
    out_dir: Path,
) -> Path:
    """Write the self-contained ``<name>.html`` (tables and the drawn figures) into
    ``out_dir``."""
    html_path = out_dir / summary_files(spec)[2]
    html_path.write_text(write_html(table, spec, figures, method_text(spec)), encoding="utf-8")
    return html_path
