"""Serve plotly.js from the installed plotly package, and nothing else from it.

:class:`PlotlyFinder` exposes exactly one static path, :data:`PLOTLY_STATIC_PATH`, backed by
``plotly/package_data/plotly.min.js``: the version always matches the Python package, no copy is
kept in the repository, no CDN is involved, and ``collectstatic`` does not pick up plotly's
datasets or widget bundle. Enable it after Django's own finders::

    STATICFILES_FINDERS = [
        "django.contrib.staticfiles.finders.FileSystemFinder",
        "django.contrib.staticfiles.finders.AppDirectoriesFinder",
        "config.staticfinders.PlotlyFinder",
    ]

Content-Security-Policy: when plotly.min.js loads it creates two ``<style>`` elements, an empty
one that it then fills through the CSSOM (``insertRule``, which CSP does not govern) and one with
MapLibre's fixed CSS. Under ``style-src 'self'`` both are refused and the charts draw with their
layers misplaced. :data:`PLOTLY_STYLE_HASHES` are the CSP hash sources that allow exactly those
two elements (nothing else inline: no style attributes, no other ``<style>``); they change only
when plotly is upgraded, and a test recomputes them from the installed file with
:func:`plotly_style_hashes`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from pathlib import Path

from django.contrib.staticfiles import finders, utils
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_DIR = "vendor/plotly"
PLOTLY_FILENAME = "plotly.min.js"
PLOTLY_STATIC_PATH = f"{PLOTLY_STATIC_DIR}/{PLOTLY_FILENAME}"

PLOTLY_STYLE_HASHES = (
    # The empty <style id="plotly.js-style-global"> that plotly fills with insertRule.
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    # MapLibre's stylesheet, bundled in plotly.js 4.1.1 (plotly 7.1.0).
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
)


def plotly_js_path() -> Path | None:
    """Where the installed plotly package keeps plotly.min.js, without importing plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / PLOTLY_FILENAME


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def plotly_style_hashes(path: Path | None = None) -> tuple[str, ...]:
    """The CSP hash sources of the ``<style>`` elements the given plotly.min.js creates at load.

    Finds every ``document.createElement("style")`` whose text is set from a string literal
    (MapLibre's CSS) plus the empty element of plotly's own ``addStyleRule``.
    """
    source = (path or plotly_js_path()).read_text(encoding="utf-8")
    hashes = [_csp_hash("")]
    literal = re.compile(
        r'createElement\("style"\);?[^;]{0,200}?\.textContent=(["\'])((?:\\.|(?!\1).)*)\1', re.S
    )
    for match in literal.finditer(source):
        if "\\" in match.group(2):
            raise ValueError("a <style> text with escapes: compute its hash in a browser instead")
        hashes.append(_csp_hash(match.group(2)))
    return tuple(hashes)


class PlotlyFinder(finders.BaseFinder):
    """A staticfiles finder for the single file ``vendor/plotly/plotly.min.js``."""

    def __init__(self, app_names=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = plotly_js_path()
        location = self.source.parent if self.source else Path()
        self.storage = FileSystemStorage(location=location)
        # collectstatic and whitenoise put the storage's files under this prefix.
        self.storage.prefix = PLOTLY_STATIC_DIR

    def _available(self) -> bool:
        return self.source is not None and self.source.is_file()

    def check(self, **kwargs):
        if self._available():
            return []
        return [
            Error(
                f"plotly.min.js was not found in the installed plotly package ({self.source}).",
                hint="Install the project's dependencies (plotly) or remove PlotlyFinder.",
                obj=self,
                id="selfkind.E001",
            )
        ]

    def find(self, path, find_all=False, **kwargs):
        if kwargs:  # RemovedInDjango61Warning: the old name of find_all.
            find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        if self.source is not None and str(self.source.parent) not in finders.searched_locations:
            finders.searched_locations.append(str(self.source.parent))
        if path != PLOTLY_STATIC_PATH or not self._available():
            return []
        return [str(self.source)] if find_all else str(self.source)

    def list(self, ignore_patterns):
        ignored = utils.matches_patterns(PLOTLY_FILENAME, ignore_patterns or [])
        if self._available() and not ignored:
            yield PLOTLY_FILENAME, self.storage
