"""Accessibility basics of a rendered page, checked on its HTML with the standard library: a
language, a skip link to the main landmark, one h1 and no skipped heading levels, a label for every
form field, scoped table headers, unique ids, text on every button."""

from __future__ import annotations

from html.parser import HTMLParser

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
FIELDS = {"input", "select", "textarea"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, dict[str, str], bool]] = []
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.imgs_without_alt = 0
        self.main_ids: list[str] = []
        self.first_link: str | None = None
        self.buttons: list[str] = []
        self._label_depth = 0
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "main":
            self.main_ids.append(a.get("id", ""))
        elif tag == "a" and self.first_link is None:
            self.first_link = a.get("href", "")
        elif tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in FIELDS:
            if not (tag == "input" and a.get("type", "text") in UNLABELLED_TYPES):
                self.fields.append((tag, a, self._label_depth > 0))
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        elif tag == "th" and a.get("scope") not in {"col", "row", "colgroup", "rowgroup"}:
            self.th_without_scope += 1
        elif tag == "img" and "alt" not in a:
            self.imgs_without_alt += 1
        elif tag == "button":
            self._button = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1
        elif tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)


def problems(html: str) -> list[str]:
    """What is missing; an empty list when the basics are there."""
    page = _Page()
    page.feed(html)
    found: list[str] = []
    if not page.lang:
        found.append("<html> has no lang attribute")
    if len(page.main_ids) != 1:
        found.append(f"expected one <main>, found {len(page.main_ids)}")
    elif page.first_link != f"#{page.main_ids[0]}":
        found.append(f"the first link should skip to #{page.main_ids[0]}, not {page.first_link!r}")
    if page.headings.count(1) != 1:
        found.append(f"expected one <h1>, found {page.headings.count(1)}")
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        if after > before + 1:
            found.append(f"heading level skipped: h{before} then h{after}")
    for tag, attrs, wrapped in page.fields:
        labelled = (
            wrapped
            or attrs.get("id", "") in page.label_for
            or attrs.get("aria-label")
            or attrs.get("aria-labelledby")
        )
        if not labelled:
            found.append(f"<{tag} name={attrs.get('name')!r}> has no label")
    if page.th_without_scope:
        found.append(f"{page.th_without_scope} <th> without scope")
    if page.imgs_without_alt:
        found.append(f"{page.imgs_without_alt} <img> without alt")
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    if duplicates:
        found.append(f"duplicate ids: {duplicates}")
    if any(not text for text in page.buttons):
        found.append("a <button> has no text")
    return found
