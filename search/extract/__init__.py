"""Text extraction, the first stage of ingestion: raw bytes or text in, plain text out.

``extract`` never raises for bad input. A document whose text cannot be had (an image, an
unsupported or corrupt file, an encrypted PDF) comes back with empty ``text`` and a
``metadata_only_reason``, so the pipeline still indexes its title and attributes and the
operator can see why its body is missing. Third-party parsers are fed untrusted bytes and fail
in many ways, so each is called behind one ``except Exception`` that turns the failure into
that reason; errors in Quarry's own code outside those boundaries still raise.

Choices:

* The type comes from ``content_type`` when it names a format, else from the file extension,
  else from magic bytes. ``text/plain`` and ``application/octet-stream`` are treated as
  "unknown" because servers use them as defaults for Markdown, CSV, JSON and mislabelled PDFs.
* When both ``text`` and ``content`` are given, a non-blank ``text`` wins: it is what the
  connector already decoded. Markup (HTML, Markdown, CSV, JSON, XML) in ``text`` is still stripped.
* Decoding order: byte-order mark, then a declared charset (``content_type``, then an HTML
  meta tag or XML declaration) when it decodes cleanly, then strict UTF-8, then Windows-1252
  when the result looks like Western European text, then charset-normalizer. The Western
  check exists because charset-normalizer often names an exotic code page for short French or
  German text. ISO-8859-1 and ASCII labels are read as Windows-1252, as browsers do.
* Whitespace is normalised (runs of spaces collapse, paragraph breaks survive as one blank
  line, a tab separating table cells survives as one tab); control characters, NULs, lone
  surrogates, BOMs, soft hyphens and zero-width spaces are removed.
* ``max_chars`` bounds the normalised text; the cut falls on a word boundary, so
  ``len(text) + truncated_chars`` is always the length of the full normalised text.
* JSON keeps string and number values as ``key: value`` lines (the nearest key only, so deep
  paths cannot make lines unbounded); booleans and nulls are dropped as noise.
* XLSX and PPTX are read directly as zip + XML (cell values incl. numbers; slide text without
  speaker notes); ZIP archives whose declared uncompressed size is huge are refused.
"""

from search.extract.dispatch import extract
from search.extract.model import Extracted, Kind

__all__ = ["Extracted", "Kind", "extract"]
