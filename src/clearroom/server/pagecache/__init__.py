"""Public pages and API reads for anonymous visitors, kept in memory until what they show changes.

A public release page is the same for every anonymous visitor until something it shows changes,
and rendering it costs far more than serving it again. Everything those pages show lives in the
database (or the log's checkpoint), so one value says whether a kept copy is still true: the
*generation*, a random number in a one-row table that database triggers replace on every write
to a watched table — ORM saves, ``QuerySet.update``, ``bulk_create`` and raw SQL alike, in the
writing transaction. Publishing a log checkpoint replaces it too (``bump``).

A request reads the generation first, then renders; the copy is kept under that generation.
Under READ COMMITTED the rendering sees at least what the generation stood for, and any later
commit replaces the generation, so a copy is never served after a change it does not show.
Random values (not a counter) stay unique across rolled-back transactions and restored backups.

Only anonymous GETs are served from the cache (no session cookie, no Authorization); a signed-in
visitor, or a token, always gets a freshly authorized answer. Copies also expire after
``page_cache_seconds``, which bounds how late a time-driven change (a signing key's expiry) shows.
"""
