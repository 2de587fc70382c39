"""The pages of the annotated CRF, decided before anything is drawn.

Pure and deterministic: the page a field lands on depends only on the forms and on the
fixed measures below (text is wrapped at a fixed number of characters, every line has
the same height), so define.xml can cite a page (def:PDFPageRef, PhysicalRef: the page's
position in the file, counting from 1) without reading the PDF, and the renderer
(:mod:`.render`) draws exactly these pages.

The file: contents page(s) first (every form and every domain with its pages), then each
form from a new page, its fields in order, continued on as many pages as it needs (a
field is never split across pages).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from cdisc_mapper.acrf.annotate import FieldCrf, FormCrf
from cdisc_mapper.spec.define import FormSpec

#: Characters of a wrapped question and annotation line (the renderer's columns fit them).
QUESTION_CHARS = 44
ANNOTATION_CHARS = 46
#: Lines of the body of a form page, and of a contents page.
BODY_LINES = 44
CONTENTS_LINES = 46


@dataclass(frozen=True)
class Block:
    """One field as drawn: its wrapped question and annotation lines."""

    field: FieldCrf
    question: tuple[str, ...]
    annotations: tuple[tuple[str, str], ...]  # (domain, line); domain "" for NOT SUBMITTED

    @property
    def lines(self) -> int:
        """Lines the field takes, with one blank line after it."""
        return max(len(self.question), len(self.annotations), 1) + 1


@dataclass(frozen=True)
class Page:
    """A form page: the physical page number, its form and the fields on it."""

    number: int
    form: FormCrf
    blocks: tuple[Block, ...]
    part: int  # 1 for the form's first page
    parts: int


@dataclass(frozen=True)
class Layout:
    """The whole file: the contents pages and the form pages."""

    title: str
    contents_pages: int
    pages: tuple[Page, ...]

    @property
    def total(self) -> int:
        return self.contents_pages + len(self.pages)

    def form_pages(self) -> dict[str, FormSpec]:
        """Each form's pages and the pages of each of its fields (raw columns): what
        define.xml cites (the shape define.yaml ``forms:`` gives for a sponsor's aCRF)."""
        out: dict[str, FormSpec] = {}
        for form in dict.fromkeys(p.form.name for p in self.pages):
            pages = [p for p in self.pages if p.form.name == form]
            fields: dict[str, list[int]] = {}
            for page in pages:
                for block in page.blocks:
                    fields.setdefault(block.field.column, []).append(page.number)
            out[form] = FormSpec(
                pages=_pages(p.number for p in pages),
                fields={column: _pages(numbers) for column, numbers in fields.items()},
            )
        return out

    def domain_pages(self) -> dict[str, list[int]]:
        """Each domain (by name, sorted) and the pages annotating it."""
        out: dict[str, list[int]] = {}
        for page in self.pages:
            for block in page.blocks:
                for note in block.field.annotations:
                    numbers = out.setdefault(note.domain, [])
                    if page.number not in numbers:
                        numbers.append(page.number)
        return {d: out[d] for d in sorted(out)}

    def contents(self, labels: dict[str, str]) -> list[tuple[int, str, str]]:
        """The contents lines: (indent level, text, pages); ``labels`` names domains."""
        lines: list[tuple[int, str, str]] = [(0, "Forms", "")]
        for form, spec in self.form_pages().items():
            file = next(p.form.file for p in self.pages if p.form.name == form)
            lines.append((1, f"{form} ({file})", spec.pages))
        lines.append((0, "Domains", ""))
        for domain, numbers in self.domain_pages().items():
            named = f"{domain} ({labels[domain]})" if labels.get(domain) else domain
            lines.append((1, named, _pages(numbers)))
        return lines


def _pages(numbers: object) -> str:
    """Page numbers as def:PDFPageRef writes them: ascending, blank-separated."""
    return " ".join(str(n) for n in sorted(set(numbers)))  # type: ignore[call-overload]


def block(field: FieldCrf) -> Block:
    """A field wrapped for drawing."""
    question = tuple(textwrap.wrap(field.question, QUESTION_CHARS)) or (field.column,)
    notes: list[tuple[str, str]] = []
    if not field.annotations:
        notes = [("", line) for line in textwrap.wrap("NOT SUBMITTED", ANNOTATION_CHARS)]
    for note in field.annotations:
        notes += [(note.domain, line) for line in textwrap.wrap(note.text, ANNOTATION_CHARS)]
    return Block(field, question, tuple(notes))


def _form_chunks(form: FormCrf) -> list[tuple[Block, ...]]:
    """A form's blocks cut into pages of at most BODY_LINES lines (a field taller than a
    page gets a page of its own)."""
    chunks: list[list[Block]] = [[]]
    used = 0
    for b in (block(f) for f in form.fields):
        if chunks[-1] and used + b.lines > BODY_LINES:
            chunks.append([])
            used = 0
        chunks[-1].append(b)
        used += b.lines
    return [tuple(c) for c in chunks]


def contents_pages(forms: list[FormCrf]) -> int:
    """Pages the contents take: a heading and a line per form and per domain."""
    domains = {d for f in forms for d in f.domains}
    lines = 2 + len(forms) + len(domains)
    return max(1, -(-lines // CONTENTS_LINES))


def lay_out(forms: list[FormCrf], title: str) -> Layout:
    """The pages of the aCRF of ``forms`` (in that order)."""
    first = contents_pages(forms) + 1
    pages: list[Page] = []
    for form in forms:
        chunks = _form_chunks(form)
        for part, chunk in enumerate(chunks, start=1):
            pages.append(Page(first + len(pages), form, chunk, part, len(chunks)))
    return Layout(title=title, contents_pages=first - 1, pages=tuple(pages))
